/* libFuzzer harness: the untrusted inputs of webhooks: the endpoint URL a team gives
 * (so_wh_url_check, both rule sets) and the event list and receiver answer text handled
 * around it. Input: "URL\nEVENTS". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "fuzz.h"
#include "../../src/svc/so_outbox.h"
#include "../../src/core/so_webhook.h"

SO_FUZZ_ROOT_POOL(root)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    char *in, *events;
    const char *why = NULL, *sig = NULL;

    apr_pool_create(&p, root);
    in = apr_pstrmemdup(p, (const char *)data, size);
    events = strchr(in, '\n');
    if (events) {
        *events++ = '\0';
    }
    so_wh_url_check(p, in, 0, 0, &why);
    so_wh_url_check(p, in, 1, 1, &why);
    if (events) {
        so_webhook_wants(events, "order.created");
        so_wh_sign(p, events, "msg_x", 1, in, strlen(in), &sig);
    }
    apr_pool_destroy(p);
    return 0;
}
