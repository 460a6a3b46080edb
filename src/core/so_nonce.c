/* mod_sslorders: ACME nonces in shared memory (see so_nonce.h). */
#include <string.h>

#include <apr_atomic.h>

#include "so_nonce.h"
#include "so_jws.h"
#include "so_util.h"

#define NONCE_RAW 12           /* 4 bytes of slot index, 8 of value */
#define TIME_BITS 24           /* seconds, modulo 2^24 (194 days) */
#define RAND_BITS 40
#define RAND_MASK ((APR_UINT64_C(1) << RAND_BITS) - 1)
#define TIME_MASK ((APR_UINT64_C(1) << TIME_BITS) - 1)
#define CLOCK_SLACK 60         /* seconds a nonce may seem issued in the future */

typedef struct {
    volatile apr_uint32_t next; /* the slot the next nonce takes (mod slots) */
    apr_uint32_t pad;
    volatile apr_uint64_t slot[];
} nonce_table_t;

static nonce_table_t *table;
static apr_uint32_t table_slots;

apr_size_t so_nonce_mem_size(apr_uint32_t slots)
{
    return sizeof(nonce_table_t) + (apr_size_t)slots * sizeof(apr_uint64_t);
}

void so_nonce_mem_attach(void *base, apr_uint32_t slots)
{
    if (!base || slots < 2 || (slots & (slots - 1))) {
        table = NULL;
        table_slots = 0;
        return;
    }
    table = base;
    table_slots = slots;
}

int so_nonce_mem_on(void)
{
    return table != NULL;
}

const char *so_nonce_mem_issue(apr_pool_t *p, apr_int64_t now)
{
    unsigned char raw[NONCE_RAW];
    apr_uint64_t rnd = 0, value;
    apr_uint32_t idx;
    int i;

    if (!table || so_random_bytes(raw + 4, 8) != APR_SUCCESS) {
        return NULL;
    }
    for (i = 4; i < NONCE_RAW; i++) {
        rnd = rnd << 8 | raw[i];
    }
    /* never 0 (a used slot): the time's bits are the value's top ones, the random low bit set */
    value = ((apr_uint64_t)now & TIME_MASK) << RAND_BITS | (rnd & RAND_MASK) | 1;
    idx = apr_atomic_inc32(&table->next) & (table_slots - 1);
    apr_atomic_set64(&table->slot[idx], value);
    for (i = 0; i < 4; i++) {
        raw[i] = (unsigned char)(idx >> (24 - 8 * i));
    }
    for (i = 0; i < 8; i++) {
        raw[4 + i] = (unsigned char)(value >> (56 - 8 * i));
    }
    return so_b64url(p, raw, sizeof(raw));
}

apr_status_t so_nonce_mem_use(apr_pool_t *p, const char *nonce, apr_int64_t now,
                              apr_int64_t ttl)
{
    const unsigned char *raw;
    apr_size_t len;
    apr_uint64_t value = 0, age;
    apr_uint32_t idx = 0;
    int i;

    if (!table) {
        return APR_ENOTIMPL;
    }
    if (!nonce || strlen(nonce) != 16 || so_unb64url(p, nonce, &raw, &len) != APR_SUCCESS
        || len != NONCE_RAW) {
        return APR_ENOENT;
    }
    for (i = 0; i < 4; i++) {
        idx = idx << 8 | raw[i];
    }
    for (i = 4; i < NONCE_RAW; i++) {
        value = value << 8 | raw[i];
    }
    if (idx >= table_slots || !value) {
        return APR_ENOENT;
    }
    age = ((apr_uint64_t)now - (value >> RAND_BITS)) & TIME_MASK;
    if (age > TIME_MASK - CLOCK_SLACK) {
        age = 0; /* issued "later" than now: the clock stepped back a little */
    }
    if (ttl <= 0 || age >= (apr_uint64_t)ttl) {
        return APR_ENOENT;
    }
    return apr_atomic_cas64(&table->slot[idx], 0, value) == value ? APR_SUCCESS : APR_ENOENT;
}
