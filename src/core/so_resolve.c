/* mod_sslorders: DNS resolution through libunbound with DNSSEC. See so_resolve.h. */
#include <arpa/inet.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_time.h>
#include <unbound.h>

#include "so_resolve.h"

#define DEFAULT_MS 5000

struct so_resolver_t {
    struct ub_ctx *ctx;
    const char *server; /* for messages */
    int validates;
    int timeout_ms;
    int (*cancelled)(void);
};

typedef struct {
    int done;
    int err;
    struct ub_result *result;
} pending_t;

static apr_status_t ctx_cleanup(void *data)
{
    so_resolver_t *r = data;
    if (r->ctx) {
        ub_ctx_delete(r->ctx);
        r->ctx = NULL;
    }
    return APR_SUCCESS;
}

const char *so_resolve_fwd_addr(apr_pool_t *p, const char *ns)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *port_s = NULL, *h = ns;
    const char *colon;
    apr_size_t hl;
    unsigned char buf[sizeof(struct in6_addr)];

    if (!ns || !*ns) {
        return NULL;
    }
    colon = strchr(ns, ':');
    if (ns[0] == '[') {
        const char *close = strchr(ns, ']');
        if (!close) {
            return NULL;
        }
        h = ns + 1;
        hl = (apr_size_t)(close - h);
        if (close[1] == ':') {
            port_s = close + 2;
        }
        else if (close[1]) {
            return NULL;
        }
    }
    else if (colon && colon == strrchr(ns, ':')) { /* one colon: v4:port */
        hl = (apr_size_t)(colon - ns);
        port_s = colon + 1;
    }
    else {
        hl = strlen(ns);
    }
    if (hl == 0 || hl >= sizeof(host)) {
        return NULL;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    if (inet_pton(AF_INET, host, buf) != 1 && inet_pton(AF_INET6, host, buf) != 1) {
        return NULL;
    }
    if (port_s) {
        char *end;
        long port = strtol(port_s, &end, 10);
        if (*end || port < 1 || port > 65535) {
            return NULL;
        }
        return apr_psprintf(p, "%s@%ld", host, port);
    }
    return apr_pstrdup(p, host);
}

const char *so_resolve_anchor_file(apr_pool_t *p, const so_resolve_opts_t *o)
{
    char *list, *f, *last = NULL;
    if (!o->dnssec) {
        return NULL;
    }
    if (o->trust_anchor) {
        return access(o->trust_anchor, R_OK) == 0 ? o->trust_anchor : NULL;
    }
    list = apr_pstrdup(p, SO_RESOLVE_ROOT_KEYS);
    for (f = apr_strtok(list, ":", &last); f; f = apr_strtok(NULL, ":", &last)) {
        if (access(f, R_OK) == 0) {
            return f;
        }
    }
    return NULL;
}

apr_status_t so_resolver_create(so_resolver_t **out, apr_pool_t *p, const so_resolve_opts_t *o,
                                const char **why)
{
    so_resolver_t *r = apr_pcalloc(p, sizeof(*r));
    const char *fwd = NULL, *anchor;
    int err;

    *out = NULL;
    *why = NULL;
    if (o->nameserver && !(fwd = so_resolve_fwd_addr(p, o->nameserver))) {
        *why = apr_psprintf(p, "the DNS server \"%s\" is not an address[:port]", o->nameserver);
        return APR_EINVAL;
    }
    if (!(r->ctx = ub_ctx_create())) {
        *why = "cannot set up the DNS resolver";
        return APR_ENOMEM;
    }
    apr_pool_cleanup_register(p, r, ctx_cleanup, apr_pool_cleanup_null);
    r->server = o->nameserver ? apr_pstrcat(p, "the DNS server ", o->nameserver, NULL)
                              : "the DNS";
    r->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_MS;
    r->cancelled = o->cancelled;
    /* a thread, not a forked process, answers asynchronous queries (httpd's children) */
    if ((err = ub_ctx_async(r->ctx, 1)) != 0
        || (err = ub_ctx_set_option(r->ctx, "do-not-query-localhost:", "no")) != 0
        || (err = ub_ctx_set_option(r->ctx, "logfile:", "")) != 0
        || (err = ub_ctx_set_option(r->ctx, "use-syslog:", "no")) != 0
        || (err = ub_ctx_set_option(r->ctx, "verbosity:", "0")) != 0
        /* unbound answers names under test. itself (RFC 6761): ask the server instead */
        || (err = ub_ctx_set_option(r->ctx, "local-zone:", "test. transparent")) != 0
        || (err = ub_ctx_set_option(r->ctx, "qname-minimisation:", "no")) != 0) {
        *why = apr_psprintf(p, "cannot set up the DNS resolver: %s", ub_strerror(err));
        return APR_EGENERAL;
    }
    if (fwd && (err = ub_ctx_set_fwd(r->ctx, fwd)) != 0) {
        *why = apr_psprintf(p, "cannot use the DNS server %s: %s", o->nameserver, ub_strerror(err));
        return APR_EINVAL;
    }
    if (o->dnssec) {
        anchor = so_resolve_anchor_file(p, o);
        if (!anchor) {
            *why = apr_psprintf(p, "no readable DNSSEC trust anchor (%s): DNS answers are not "
                                   "validated",
                                o->trust_anchor ? o->trust_anchor : SO_RESOLVE_ROOT_KEYS);
        }
        else if ((err = ub_ctx_add_ta_file(r->ctx, anchor)) != 0) {
            *why = apr_psprintf(p, "cannot read the DNSSEC trust anchor %s: %s", anchor,
                                ub_strerror(err));
            return APR_EINVAL;
        }
        else {
            r->validates = 1;
        }
    }
    *out = r;
    return APR_SUCCESS;
}

int so_resolver_validates(const so_resolver_t *r)
{
    return r && r->validates;
}

static void on_result(void *arg, int err, struct ub_result *result)
{
    pending_t *pd = arg;
    pd->err = err;
    pd->result = result;
    pd->done = 1;
}

apr_status_t so_resolve(so_resolver_t *r, apr_pool_t *p, const char *qname, int qtype,
                        so_dns_answer_t **ans, const char **why)
{
    pending_t pd;
    so_dns_answer_t *a;
    struct ub_result *res;
    apr_time_t deadline = apr_time_now() + apr_time_from_msec(r->timeout_ms);
    int id = 0, err, i;

    *ans = NULL;
    memset(&pd, 0, sizeof(pd));
    if ((err = ub_resolve_async(r->ctx, qname, qtype, 1 /* IN */, &pd, on_result, &id)) != 0) {
        *why = apr_psprintf(p, "the DNS query for %s failed: %s", qname, ub_strerror(err));
        return APR_EGENERAL;
    }
    while (!pd.done) {
        struct pollfd pfd;
        apr_interval_time_t left = deadline - apr_time_now();
        if (left <= 0) {
            ub_cancel(r->ctx, id);
            *why = apr_psprintf(p, "no answer from %s within %d seconds for %s", r->server,
                                (r->timeout_ms + 999) / 1000, qname);
            return APR_TIMEUP;
        }
        if (r->cancelled && r->cancelled()) {
            ub_cancel(r->ctx, id);
            *why = apr_psprintf(p, "the DNS query for %s was stopped: the server stops", qname);
            return APR_EINTR;
        }
        pfd.fd = ub_fd(r->ctx);
        pfd.events = POLLIN;
        pfd.revents = 0;
        /* in slices of at most 0.2 s when the query can be stopped */
        if (poll(&pfd, 1, r->cancelled && left > 200000 ? 200 : (int)(left / 1000) + 1) > 0) {
            ub_process(r->ctx);
        }
    }
    if (pd.err != 0 || !pd.result) {
        *why = apr_psprintf(p, "the DNS query for %s failed: %s", qname, ub_strerror(pd.err));
        return APR_EGENERAL;
    }
    res = pd.result;
    if (res->bogus) {
        *why = apr_psprintf(p, "the DNS answer for %s failed DNSSEC validation (%s)", qname,
                            res->why_bogus ? res->why_bogus : "bogus");
        ub_resolve_free(res);
        return SO_EDNSSEC;
    }
    if (res->rcode == 2 /* SERVFAIL */ && !res->havedata) {
        *why = apr_psprintf(p, "no usable answer from %s for %s (SERVFAIL: unreachable or failing)", r->server, qname);
        ub_resolve_free(res);
        return APR_EGENERAL;
    }
    a = apr_pcalloc(p, sizeof(*a));
    a->rcode = res->rcode;
    a->nxdomain = res->nxdomain;
    a->secure = res->secure;
    if (res->canonname) {
        apr_size_t l = strlen(res->canonname);
        a->canonname = apr_pstrndup(p, res->canonname, l && res->canonname[l - 1] == '.' ? l - 1 : l);
    }
    a->rdata = apr_array_make(p, 2, sizeof(so_rdata_t));
    for (i = 0; res->havedata && res->data && res->data[i]; i++) {
        so_rdata_t *d = apr_array_push(a->rdata);
        d->len = (apr_size_t)res->len[i];
        d->data = apr_pmemdup(p, res->data[i], d->len ? d->len : 1);
    }
    if (res->answer_packet && res->answer_len > 0) {
        a->packet_len = (apr_size_t)res->answer_len;
        a->packet = apr_pmemdup(p, res->answer_packet, a->packet_len);
    }
    ub_resolve_free(res);
    *ans = a;
    return APR_SUCCESS;
}
