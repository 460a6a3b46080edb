/* Domain control validation against real servers started here: a small HTTP/1.1 server
 * (a thread of the test) for files, errors and redirects, `openssl s_server -WWW` for
 * https, and dnsmasq for CNAME and TXT records. Probes reach them through made-up names
 * (*.example.test) and the connect-to mapping or the nameserver option. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <apr_strings.h>

#include "test_common.h"
#include "../../src/core/so_dcv.h"
#include "../../src/core/so_util.h"

static apr_pool_t *pool;
static const char *tmp;
static so_dcv_token_t *tok;     /* a token with a unique value */
static so_dcv_token_t *tok_nou; /* the same CSR without one */
static const unsigned char *csr_der;
static apr_size_t csr_len;

/* ---- processes ---------------------------------------------------------------------- */

#define MAX_CHILDREN 8
static pid_t children[MAX_CHILDREN];

static void stop_child(pid_t pid)
{
    int i, status;
    if (pid <= 0) {
        return;
    }
    kill(-pid, SIGTERM);
    for (i = 0; i < 50 && waitpid(pid, &status, WNOHANG) == 0; i++) {
        usleep(20000);
    }
    if (i == 50) {
        kill(-pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
}

static void stop_children(void)
{
    int i;
    for (i = 0; i < MAX_CHILDREN; i++) {
        stop_child(children[i]);
        children[i] = 0;
    }
}

/* Start argv in dir (own process group, killed when the test's process ends, even by a
 * failed check), output to dir/server.log. */
static pid_t spawn(const char *dir, char *const argv[])
{
    pid_t pid = fork();
    int i;
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        FILE *log;
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        setpgid(0, 0);
        if (chdir(dir) != 0 || !(log = freopen("server.log", "a", stdout))
            || dup2(fileno(stdout), 2) < 0) {
            _exit(126);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    setpgid(pid, pid);
    for (i = 0; i < MAX_CHILDREN && children[i]; i++) {
    }
    ck_assert_int_lt(i, MAX_CHILDREN);
    children[i] = pid;
    return pid;
}

/* A port free for TCP and UDP on 127.0.0.1. */
static int free_port(void)
{
    int tries;
    for (tries = 0; tries < 50; tries++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t al = sizeof(a);
        int u = socket(AF_INET, SOCK_DGRAM, 0), t = socket(AF_INET, SOCK_STREAM, 0), ok;
        ok = bind(u, (struct sockaddr *)&a, sizeof(a)) == 0
             && getsockname(u, (struct sockaddr *)&a, &al) == 0
             && bind(t, (struct sockaddr *)&a, sizeof(a)) == 0;
        close(u);
        close(t);
        if (ok) {
            return ntohs(a.sin_port);
        }
    }
    ck_abort_msg("no free port");
    return 0;
}

/* Wait until something accepts TCP connections on 127.0.0.1:port. */
static void wait_tcp(int port, pid_t pid)
{
    int i, status;
    for (i = 0; i < 250; i++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int s = socket(AF_INET, SOCK_STREAM, 0);
        int ok = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
        close(s);
        if (ok) {
            return;
        }
        ck_assert_msg(waitpid(pid, &status, WNOHANG) == 0, "the server exited (see %s/server.log)",
                      tmp);
        usleep(20000);
    }
    ck_abort_msg("nothing listens on port %d after 5 s", port);
}

/* ---- a small HTTP server (a thread) --------------------------------------------------- */

typedef struct {
    const char *host; /* Host header without port */
    const char *path;
    int status;       /* 0: never answer */
    const char *location;
    const char *body;
    apr_size_t len;
} route_t;

static route_t routes[16];
static int nroutes;
static int http_fd = -1;
static int http_port;
static pthread_t http_thread;
static volatile int http_stop;
static int http_requests;
static char last_request[4096];

static void route(const char *host, const char *path, int status, const char *location,
                  const char *body)
{
    ck_assert_int_lt(nroutes, 16);
    routes[nroutes].host = host;
    routes[nroutes].path = path;
    routes[nroutes].status = status;
    routes[nroutes].location = location;
    routes[nroutes].body = body ? body : "";
    routes[nroutes].len = strlen(routes[nroutes].body);
    nroutes++;
}

static void send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0) {
            return;
        }
        data += n;
        len -= (size_t)n;
    }
}

static void http_handle(int fd)
{
    char req[4096], method[16], path[1024], host[256] = "", head[1024];
    size_t len = 0;
    const char *h;
    const route_t *r = NULL;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int i;

    while (len < sizeof(req) - 1 && poll(&pfd, 1, 2000) > 0) {
        ssize_t n = recv(fd, req + len, sizeof(req) - 1 - len, 0);
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
        req[len] = '\0';
        if ((unsigned char)req[0] == 0x16) { /* a TLS ClientHello: hang up */
            return;
        }
        if (strstr(req, "\r\n\r\n")) {
            break;
        }
    }
    req[len] = '\0';
    memcpy(last_request, req, len + 1);
    http_requests++;
    if (sscanf(req, "%15s %1023s", method, path) != 2) {
        return;
    }
    if ((h = strcasestr(req, "\r\nHost: ")) != NULL) {
        sscanf(h + 8, "%255[^:\r]", host);
    }
    for (i = 0; i < nroutes; i++) {
        if (strcasecmp(routes[i].host, host) == 0 && strcmp(routes[i].path, path) == 0) {
            r = &routes[i];
        }
    }
    if (r && r->status == 0) {
        for (i = 0; i < 100 && !http_stop; i++) {
            usleep(50000);
        }
        return;
    }
    snprintf(head, sizeof(head),
             "HTTP/1.1 %d Whatever\r\nContent-Type: text/plain\r\nContent-Length: %lu\r\n"
             "Connection: close\r\n%s%s%s\r\n",
             r ? r->status : 404, (unsigned long)(r ? r->len : 9), r && r->location ? "Location: " : "",
             r && r->location ? r->location : "", r && r->location ? "\r\n" : "");
    send_all(fd, head, strlen(head));
    send_all(fd, r ? r->body : "not found", r ? r->len : 9);
}

static void *http_main(void *arg)
{
    (void)arg;
    while (!http_stop) {
        struct pollfd pfd = {.fd = http_fd, .events = POLLIN};
        if (poll(&pfd, 1, 50) > 0) {
            int c = accept(http_fd, NULL, NULL);
            if (c >= 0) {
                http_handle(c);
                close(c);
            }
        }
    }
    return NULL;
}

static void http_start(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    http_fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(bind(http_fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(http_fd, 16), 0);
    ck_assert_int_eq(getsockname(http_fd, (struct sockaddr *)&a, &al), 0);
    http_port = ntohs(a.sin_port);
    http_stop = 0;
    ck_assert_int_eq(pthread_create(&http_thread, NULL, http_main, NULL), 0);
}

static void http_stop_server(void)
{
    if (http_fd >= 0) {
        http_stop = 1;
        pthread_join(http_thread, NULL);
        close(http_fd);
        http_fd = -1;
    }
}

/* ---- fixture -------------------------------------------------------------------------- */

static void setup(void)
{
    static const char *const names[] = {"www.example.test", NULL};
    const char *why = NULL;

    apr_pool_create(&pool, NULL);
    tmp = so_test_tmpdir(pool);
    nroutes = 0;
    http_requests = 0;
    so_test_csr(pool, "ec256", names, &csr_der, &csr_len);
    ck_assert_msg(so_dcv_token(&tok, pool, csr_der, csr_len, "pki.example.net", "0a1b2c3d4e",
                               &why) == APR_SUCCESS, "%s", why);
    ck_assert(so_dcv_token(&tok_nou, pool, csr_der, csr_len, "pki.example.net", NULL, &why)
              == APR_SUCCESS);
}

static void teardown(void)
{
    http_stop_server();
    stop_children();
    so_test_rmtree(tmp);
    tmp = NULL;
    apr_pool_destroy(pool);
}

static so_dcv_opts_t opts_to(const char *from, int port)
{
    so_dcv_opts_t o;
    apr_array_header_t *list = NULL;
    const char *why;
    memset(&o, 0, sizeof(o));
    ck_assert_int_eq(so_dcv_connect_to_add(&list, pool, from, apr_psprintf(pool, "127.0.0.1:%d", port),
                                           &why), APR_SUCCESS);
    o.connect_to = list;
    o.timeout_ms = 5000;
    return o;
}

static void add_connect_to(so_dcv_opts_t *o, const char *from, int port)
{
    apr_array_header_t *list = (apr_array_header_t *)o->connect_to;
    const char *why;
    ck_assert_int_eq(so_dcv_connect_to_add(&list, pool, from, apr_psprintf(pool, "127.0.0.1:%d", port),
                                           &why), APR_SUCCESS);
    o->connect_to = list;
}

static const char *file_path(const so_dcv_token_t *t)
{
    return apr_pstrcat(pool, "/.well-known/pki-validation/", t->md5, ".txt", NULL);
}

/* ---- values and instructions ---------------------------------------------------------- */

START_TEST(values)
{
    so_dcv_instructions_t *in;
    so_dcv_token_t *t;
    const char *why, *u1, *u2, *pem;
    static const char *const names[] = {"a.example.test", NULL};
    const unsigned char *der;
    apr_size_t der_len;
    int i;

    /* hashes of the DER, upper-case hex */
    ck_assert_str_eq(tok->md5, so_md5_hex(pool, csr_der, csr_len, 1));
    ck_assert_str_eq(tok->sha256, so_sha256_hex(pool, csr_der, csr_len, 1));
    ck_assert_uint_eq(strlen(tok->md5), 32);
    ck_assert_uint_eq(strlen(tok->sha256), 64);
    ck_assert_str_eq(tok->dns_value,
                     apr_psprintf(pool, "%.32s.%s.0a1b2c3d4e.pki.example.net", tok->sha256,
                                  tok->sha256 + 32));
    ck_assert_str_eq(tok_nou->dns_value,
                     apr_psprintf(pool, "%.32s.%s.pki.example.net", tok->sha256, tok->sha256 + 32));
    ck_assert_str_eq(tok->file_body,
                     apr_pstrcat(pool, tok->sha256, "\npki.example.net\n0a1b2c3d4e", NULL));
    ck_assert_str_eq(tok_nou->file_body, apr_pstrcat(pool, tok->sha256, "\npki.example.net", NULL));

    /* the PEM form gives the same token */
    pem = so_test_csr(pool, "ec256", names, &der, &der_len);
    ck_assert_int_eq(so_dcv_token_pem(&t, pool, pem, "pki.example.net", NULL, &why), APR_SUCCESS);
    ck_assert_str_eq(t->md5, so_md5_hex(pool, der, der_len, 1));
    ck_assert_int_eq(so_dcv_token_pem(&t, pool, "junk", "pki.example.net", NULL, &why), APR_EINVAL);
    ck_assert_int_eq(so_dcv_token(&t, pool, csr_der, csr_len, "pki.example.net", "xyz", &why),
                     APR_EINVAL);
    ck_assert_int_eq(so_dcv_token(&t, pool, csr_der, csr_len, "not a domain", NULL, &why),
                     APR_EINVAL);

    /* unique values: 10 lower-case hex characters, different every time */
    ck_assert_int_eq(so_dcv_unique(&u1, pool), APR_SUCCESS);
    ck_assert_int_eq(so_dcv_unique(&u2, pool), APR_SUCCESS);
    ck_assert_uint_eq(strlen(u1), 10);
    ck_assert_str_ne(u1, u2);
    for (i = 0; i < 10; i++) {
        ck_assert(strchr("0123456789abcdef", u1[i]));
    }

    /* http */
    ck_assert_int_eq(so_dcv_instructions(&in, pool, tok, "WWW.Example.test", SO_DCV_HTTP, &why),
                     APR_SUCCESS);
    ck_assert_str_eq(in->name, "www.example.test");
    ck_assert_str_eq(in->path, file_path(tok));
    ck_assert_str_eq(in->url, apr_pstrcat(pool, "http://www.example.test", file_path(tok), NULL));
    ck_assert_str_eq(in->file_body, tok->file_body);
    ck_assert_ptr_nonnull(strstr(in->text, in->url));
    ck_assert_int_eq(so_dcv_instructions(&in, pool, tok, "www.example.test", SO_DCV_HTTPS, &why),
                     APR_SUCCESS);
    ck_assert_str_eq(in->url, apr_pstrcat(pool, "https://www.example.test", file_path(tok), NULL));
    ck_assert_int_eq(so_dcv_instructions(&in, pool, tok, "*.example.test", SO_DCV_HTTP, &why),
                     APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "wildcard"));

    /* dns: the base name of a wildcard */
    ck_assert_int_eq(so_dcv_instructions(&in, pool, tok, "*.example.test", SO_DCV_CNAME, &why),
                     APR_SUCCESS);
    ck_assert_str_eq(in->record_name, apr_pstrcat(pool, "_", tok->md5, ".example.test", NULL));
    ck_assert_str_eq(in->record_type, "CNAME");
    ck_assert_str_eq(in->record_value, tok->dns_value);
    ck_assert_int_eq(so_dcv_instructions(&in, pool, tok, "*.example.test", SO_DCV_TXT, &why),
                     APR_SUCCESS);
    ck_assert_str_eq(in->record_name, "_pki-validation.example.test");
    ck_assert_str_eq(in->record_type, "TXT");
    ck_assert_str_eq(in->record_value, tok->dns_value);
    ck_assert_ptr_nonnull(strstr(in->text, in->record_value));
    ck_assert_int_eq(so_dcv_instructions(&in, pool, tok, "bad name", SO_DCV_TXT, &why), APR_EINVAL);

    /* connect-to syntax */
    {
        apr_array_header_t *l = NULL;
        ck_assert_int_eq(so_dcv_connect_to_add(&l, pool, "Www.Example.test:80", "[::1]:8080", &why),
                         APR_SUCCESS);
        ck_assert_str_eq(APR_ARRAY_IDX(l, 0, const char *), "www.example.test:80:[::1]:8080");
        ck_assert_int_eq(so_dcv_connect_to_add(&l, pool, "www.example.test", "1.2.3.4:80", &why),
                         APR_EINVAL);
        ck_assert_int_eq(so_dcv_connect_to_add(&l, pool, "a:80", "1.2.3.4:99999", &why), APR_EINVAL);
        ck_assert_int_eq(so_dcv_connect_to_add(&l, pool, "a:80", "x y:80", &why), APR_EINVAL);
    }
}
END_TEST

/* ---- http ------------------------------------------------------------------------------ */

START_TEST(http_file)
{
    so_dcv_opts_t o;
    const char *why = NULL;
    char crlf_body[512];

    http_start();
    o = opts_to("www.example.test:80", http_port);
    route("www.example.test", file_path(tok), 200, NULL, tok->file_body);
    ck_assert_msg(so_dcv_check_http(pool, tok, "www.example.test", 0, &o, &why) == APR_SUCCESS,
                  "%s", why);
    /* the probe asked the name for the file: right path and Host, no proxy, GET */
    ck_assert_ptr_nonnull(strstr(last_request, apr_psprintf(pool, "GET %s HTTP/1.1\r\n",
                                                            file_path(tok))));
    ck_assert_ptr_nonnull(strcasestr(last_request, "\r\nHost: www.example.test\r\n"));

    /* CRLF line ends, lower case, trailing blanks, a BOM: still fine */
    snprintf(crlf_body, sizeof(crlf_body), "\xef\xbb\xbf%s  \r\npki.example.net\r\n0A1B2C3D4E \r\n",
             so_str_lower(pool, tok->sha256));
    route("crlf.example.test", file_path(tok), 200, NULL, crlf_body);
    add_connect_to(&o, "crlf.example.test:80", http_port);
    ck_assert_msg(so_dcv_check_http(pool, tok, "crlf.example.test", 0, &o, &why) == APR_SUCCESS,
                  "%s", why);

    /* the token without a unique value accepts the file with one */
    ck_assert_int_eq(so_dcv_check_http(pool, tok_nou, "www.example.test", 0, &o, &why), APR_SUCCESS);

    /* the wildcard refusal comes before any request */
    http_requests = 0;
    ck_assert_int_eq(so_dcv_check_http(pool, tok, "*.example.test", 0, &o, &why), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "wildcard"));
    ck_assert_int_eq(http_requests, 0);
}
END_TEST

START_TEST(http_wrong_content)
{
    so_dcv_opts_t o;
    const char *why = NULL;
    char *big;

    http_start();
    o = opts_to("www.example.test:80", http_port);
    add_connect_to(&o, "nounique.example.test:80", http_port);
    add_connect_to(&o, "missing.example.test:80", http_port);
    add_connect_to(&o, "empty.example.test:80", http_port);
    add_connect_to(&o, "big.example.test:80", http_port);
    add_connect_to(&o, "err.example.test:80", http_port);
    add_connect_to(&o, "second.example.test:80", http_port);
    route("www.example.test", file_path(tok), 200, NULL,
          "0000000000000000000000000000000000000000000000000000000000000000\npki.example.net\n");
    route("nounique.example.test", file_path(tok), 200, NULL, tok_nou->file_body);
    route("empty.example.test", file_path(tok), 200, NULL, " \r\n");
    route("err.example.test", file_path(tok), 500, NULL, tok->file_body);
    route("second.example.test", file_path(tok), 200, NULL,
          apr_pstrcat(pool, "hello\n", tok->file_body, NULL));
    big = apr_palloc(pool, 100 * 1024 + 1);
    memset(big, 'A', 100 * 1024);
    big[100 * 1024] = '\0';
    route("big.example.test", file_path(tok), 200, NULL, big);

    ck_assert_int_eq(so_dcv_check_http(pool, tok, "www.example.test", 0, &o, &why), APR_EMISMATCH);
    ck_assert_ptr_nonnull(strstr(why, "does not contain the expected hash"));
    ck_assert_int_eq(so_dcv_check_http(pool, tok, "nounique.example.test", 0, &o, &why),
                     APR_EMISMATCH);
    ck_assert_ptr_nonnull(strstr(why, "unique value 0a1b2c3d4e"));
    ck_assert_int_eq(so_dcv_check_http(pool, tok, "second.example.test", 0, &o, &why),
                     APR_EMISMATCH);
    ck_assert_int_eq(so_dcv_check_http(pool, tok, "empty.example.test", 0, &o, &why),
                     APR_EMISMATCH);
    ck_assert_ptr_nonnull(strstr(why, "is empty"));
    ck_assert_int_eq(so_dcv_check_http(pool, tok, "missing.example.test", 0, &o, &why),
                     APR_EGENERAL);
    ck_assert_str_eq(why, apr_pstrcat(pool, "got HTTP 404 from http://missing.example.test",
                                      file_path(tok), NULL));
    ck_assert_int_eq(so_dcv_check_http(pool, tok, "err.example.test", 0, &o, &why), APR_EGENERAL);
    ck_assert_ptr_nonnull(strstr(why, "got HTTP 500"));
    ck_assert_int_eq(so_dcv_check_http(pool, tok, "big.example.test", 0, &o, &why), APR_EMISMATCH);
    ck_assert_ptr_nonnull(strstr(why, "larger than 65536 bytes"));
}
END_TEST

START_TEST(http_redirects)
{
    so_dcv_opts_t o;
    const char *why = NULL, *fp = file_path(tok);
    const char *const hosts[] = {"www.example.test", "other.example.test", "rel.example.test",
                                 "see.example.test", "port.example.test", "ftp.example.test",
                                 "loop.example.test", "https.example.test", NULL};
    int i;

    http_start();
    memset(&o, 0, sizeof(o));
    o.timeout_ms = 5000;
    for (i = 0; hosts[i]; i++) {
        add_connect_to(&o, apr_pstrcat(pool, hosts[i], ":80", NULL), http_port);
    }
    /* 301 to another host, then 302 to a relative path, then the file */
    route("www.example.test", fp, 301, "http://other.example.test/moved", NULL);
    route("other.example.test", "/moved", 302, "/final.txt", NULL);
    route("other.example.test", "/final.txt", 200, NULL, tok->file_body);
    ck_assert_msg(so_dcv_check_http(pool, tok, "www.example.test", 0, &o, &why) == APR_SUCCESS,
                  "%s", why);
    ck_assert_ptr_nonnull(strstr(last_request, "GET /final.txt HTTP/1.1"));
    /* 307 and 308 too */
    route("rel.example.test", fp, 307, "/b", NULL);
    route("rel.example.test", "/b", 308, "/c", NULL);
    route("rel.example.test", "/c", 200, NULL, tok->file_body);
    ck_assert_msg(so_dcv_check_http(pool, tok, "rel.example.test", 0, &o, &why) == APR_SUCCESS,
                  "%s", why);
    /* but not when redirects are switched off */
    o.max_redirects = -1;
    ck_assert_int_ne(so_dcv_check_http(pool, tok, "rel.example.test", 0, &o, &why), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(why, "too many redirects"));
    o.max_redirects = 0;

    /* 303 is not a redirect the BR allow */
    route("see.example.test", fp, 303, "/c", NULL);
    ck_assert_int_ne(so_dcv_check_http(pool, tok, "see.example.test", 0, &o, &why), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(why, "got HTTP 303"));
    /* a port other than 80 and 443 */
    route("port.example.test", fp, 302, "http://other.example.test:8080/final.txt", NULL);
    ck_assert_int_ne(so_dcv_check_http(pool, tok, "port.example.test", 0, &o, &why), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(why, "ports 80 and 443"));
    /* a scheme other than http and https */
    route("ftp.example.test", fp, 302, "ftp://other.example.test/final.txt", NULL);
    ck_assert_int_ne(so_dcv_check_http(pool, tok, "ftp.example.test", 0, &o, &why), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(why, "only http and https"));
    /* a loop ends after 5 hops */
    route("loop.example.test", fp, 302, "/again", NULL);
    route("loop.example.test", "/again", 302, fp, NULL);
    http_requests = 0;
    ck_assert_int_ne(so_dcv_check_http(pool, tok, "loop.example.test", 0, &o, &why), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(why, "too many redirects (more than 5)"));
    ck_assert_int_eq(http_requests, 6);
}
END_TEST

START_TEST(https_file)
{
    so_dcv_opts_t o;
    const char *why = NULL, *dir = apr_pstrcat(pool, tmp, "/www", NULL);
    int port = free_port();
    pid_t pid;
    FILE *f;
    char *const gen[] = {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                         "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=self-signed",
                         "-keyout", "key.pem", "-out", "cert.pem", "-days", "1", NULL};
    char *const srv[] = {"openssl", "s_server", "-quiet", "-WWW", "-cert", "cert.pem", "-key",
                         "key.pem", "-accept", apr_psprintf(pool, "127.0.0.1:%d", port), NULL};
    int status;

    /* a self-signed certificate (not verified, as the BR allow) and the file */
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    ck_assert_int_eq(mkdir(apr_pstrcat(pool, dir, "/.well-known", NULL), 0755), 0);
    ck_assert_int_eq(mkdir(apr_pstrcat(pool, dir, "/.well-known/pki-validation", NULL), 0755), 0);
    f = fopen(apr_pstrcat(pool, dir, file_path(tok), NULL), "w");
    ck_assert_ptr_nonnull(f);
    fputs(tok->file_body, f);
    fclose(f);
    pid = spawn(dir, gen);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    children[0] = 0;
    pid = spawn(dir, srv);
    wait_tcp(port, pid);

    o = opts_to("www.example.test:443", port);
    ck_assert_msg(so_dcv_check_http(pool, tok, "www.example.test", 1, &o, &why) == APR_SUCCESS,
                  "%s", why);
    /* http://, redirected to https:// on 443 */
    http_start();
    add_connect_to(&o, "www.example.test:80", http_port);
    route("www.example.test", file_path(tok), 301,
          apr_pstrcat(pool, "https://www.example.test", file_path(tok), NULL), NULL);
    ck_assert_msg(so_dcv_check_http(pool, tok, "www.example.test", 0, &o, &why) == APR_SUCCESS,
                  "%s", why);
    /* https against the plain HTTP server: a failed handshake */
    o = opts_to("www.example.test:443", http_port);
    ck_assert_int_ne(so_dcv_check_http(pool, tok, "www.example.test", 1, &o, &why), APR_SUCCESS);
    ck_assert_ptr_nonnull(why);
}
END_TEST

START_TEST(http_unreachable)
{
    so_dcv_opts_t o;
    const char *why = NULL;
    int port = free_port(), lfd;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    apr_time_t start;

    /* nothing listens */
    o = opts_to("www.example.test:80", port);
    ck_assert_int_eq(so_dcv_check_http(pool, tok, "www.example.test", 0, &o, &why),
                     APR_ECONNREFUSED);
    ck_assert_str_eq(why, apr_pstrcat(pool, "connection refused by www.example.test (for "
                                            "http://www.example.test", file_path(tok), ")", NULL));

    /* a server that accepts and never answers: the total timeout */
    http_start();
    route("www.example.test", file_path(tok), 0, NULL, NULL);
    o = opts_to("www.example.test:80", http_port);
    o.timeout_ms = 700;
    start = apr_time_now();
    ck_assert_int_eq(so_dcv_check_http(pool, tok, "www.example.test", 0, &o, &why), APR_TIMEUP);
    ck_assert_int_lt(apr_time_now() - start, apr_time_from_msec(2500));
    ck_assert_ptr_nonnull(strstr(why, "no answer from www.example.test within 1 seconds"));

    /* a listening socket that never accepts: the connect still succeeds (backlog), the
     * request times out; a name that does not resolve at all */
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(lfd, 1), 0);
    ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&a, &al), 0);
    o = opts_to("www.example.test:80", ntohs(a.sin_port));
    o.timeout_ms = 500;
    ck_assert_int_eq(so_dcv_check_http(pool, tok, "www.example.test", 0, &o, &why), APR_TIMEUP);
    close(lfd);
    memset(&o, 0, sizeof(o));
    o.timeout_ms = 3000;
    ck_assert_int_ne(so_dcv_check_http(pool, tok, "nowhere.invalid", 0, &o, &why), APR_SUCCESS);
    ck_assert_ptr_nonnull(why);
}
END_TEST

/* ---- dns --------------------------------------------------------------------------------- */

static int dns_port;
static int dns_v6; /* dnsmasq also listens on [::1] */

static int v6_port_free(int port)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((unsigned short)port),
                             .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    int u = socket(AF_INET6, SOCK_DGRAM, 0), t = socket(AF_INET6, SOCK_STREAM, 0);
    int ok = u >= 0 && t >= 0 && bind(u, (struct sockaddr *)&a, sizeof(a)) == 0
             && bind(t, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (u >= 0) {
        close(u);
    }
    if (t >= 0) {
        close(t);
    }
    return ok;
}

/* dnsmasq answering for example.test only from the records given here */
static void dns_start(const char *const *records)
{
    const char *args[40];
    int n = 0, i;
    pid_t pid;

    dns_port = free_port();
    args[n++] = "dnsmasq";
    args[n++] = "--no-daemon";
    args[n++] = "--conf-file=/dev/null";
    args[n++] = "--no-resolv";
    args[n++] = "--no-hosts";
    args[n++] = "--listen-address=127.0.0.1";
    if ((dns_v6 = v6_port_free(dns_port)) != 0) {
        args[n++] = "--listen-address=::1";
    }
    args[n++] = "--bind-interfaces";
    args[n++] = apr_psprintf(pool, "--port=%d", dns_port);
    args[n++] = "--pid-file=";
    args[n++] = "--user=root";
    args[n++] = "--local=/example.test/";
    args[n++] = "--log-facility=-";
    for (i = 0; records[i] && n < 39; i++) {
        args[n++] = records[i];
    }
    args[n] = NULL;
    pid = spawn(tmp, (char *const *)args);
    wait_tcp(dns_port, pid); /* dnsmasq listens on TCP and UDP */
}

static so_dcv_opts_t dns_opts(void)
{
    so_dcv_opts_t o;
    memset(&o, 0, sizeof(o));
    o.nameserver = apr_psprintf(pool, "127.0.0.1:%d", dns_port);
    o.timeout_ms = 2000;
    return o;
}

START_TEST(dns_records)
{
    const char *target = tok->dns_value, *why = NULL;
    const char *wrong = apr_psprintf(pool, "%.32s.%s.ffffffffff.pki.example.net", tok->sha256,
                                     tok->sha256 + 32);
    const char *records[16];
    so_dcv_opts_t o;
    int n = 0;

    /* dnsmasq only serves a CNAME whose target it knows: give the targets an address */
    records[n++] = apr_psprintf(pool, "--host-record=%s,192.0.2.1", target);
    records[n++] = apr_psprintf(pool, "--host-record=%s,192.0.2.2", wrong);
    records[n++] = apr_psprintf(pool, "--cname=_%s.www.example.test,%s", tok->md5,
                                so_str_lower(pool, target)); /* case does not matter */
    records[n++] = apr_psprintf(pool, "--cname=_%s.bad.example.test,%s", tok->md5, wrong);
    records[n++] = apr_psprintf(pool, "--txt-record=_pki-validation.txt.example.test,other,%s",
                                target);
    records[n++] = apr_psprintf(pool, "--txt-record=_pki-validation.txt.example.test,\"%s\"",
                                target);
    records[n++] = apr_psprintf(pool, "--txt-record=_pki-validation.bad.example.test,%s", wrong);
    records[n++] = "--txt-record=_pki-validation.www.example.test,unrelated";
    records[n] = NULL;
    dns_start(records);
    o = dns_opts();

    /* CNAME, also for the wildcard of the same base */
    ck_assert_msg(so_dcv_check_dns(pool, tok, "www.example.test", SO_DCV_CNAME, &o, &why)
                  == APR_SUCCESS, "%s", why);
    ck_assert_msg(so_dcv_check_dns(pool, tok, "*.www.example.test", SO_DCV_CNAME, &o, &why)
                  == APR_SUCCESS, "%s", why);
    /* TXT: one of the records; quotes around the value tolerated */
    ck_assert_msg(so_dcv_check_dns(pool, tok, "txt.example.test", SO_DCV_TXT, &o, &why)
                  == APR_SUCCESS, "%s", why);
    /* either */
    ck_assert_msg(so_dcv_check_dns(pool, tok, "txt.example.test", SO_DCV_DNS, &o, &why)
                  == APR_SUCCESS, "%s", why);
    ck_assert_msg(so_dcv_check_dns(pool, tok, "www.example.test", SO_DCV_DNS, &o, &why)
                  == APR_SUCCESS, "%s", why);

    /* an IPv6 nameserver address */
    if (dns_v6) {
        so_dcv_opts_t o6 = o;
        o6.nameserver = apr_psprintf(pool, "[::1]:%d", dns_port);
        ck_assert_msg(so_dcv_check_dns(pool, tok, "www.example.test", SO_DCV_CNAME, &o6, &why)
                      == APR_SUCCESS, "%s", why);
    }

    /* a wrong token does not validate */
    ck_assert_int_eq(so_dcv_check_dns(pool, tok, "bad.example.test", SO_DCV_CNAME, &o, &why),
                     APR_EMISMATCH);
    ck_assert_ptr_nonnull(strstr(why, "has the wrong value"));
    ck_assert_int_eq(so_dcv_check_dns(pool, tok, "bad.example.test", SO_DCV_TXT, &o, &why),
                     APR_EMISMATCH);
    ck_assert_int_eq(so_dcv_check_dns(pool, tok, "bad.example.test", SO_DCV_DNS, &o, &why),
                     APR_EMISMATCH);
    ck_assert_int_eq(so_dcv_check_dns(pool, tok, "www.example.test", SO_DCV_TXT, &o, &why),
                     APR_EMISMATCH);
    ck_assert_ptr_nonnull(strstr(why, "\"unrelated\""));
    /* the token without the unique value is another value */
    ck_assert_int_eq(so_dcv_check_dns(pool, tok_nou, "www.example.test", SO_DCV_CNAME, &o, &why),
                     APR_EMISMATCH);

    /* no record: NXDOMAIN, or the name exists without that type */
    ck_assert_int_eq(so_dcv_check_dns(pool, tok, "none.example.test", SO_DCV_CNAME, &o, &why),
                     APR_ENOENT);
    ck_assert_ptr_nonnull(strstr(why, "NXDOMAIN"));
    ck_assert_int_eq(so_dcv_check_dns(pool, tok, "txt.example.test", SO_DCV_CNAME, &o, &why),
                     APR_ENOENT);
    ck_assert_int_eq(so_dcv_check_dns(pool, tok, "none.example.test", SO_DCV_DNS, &o, &why),
                     APR_ENOENT);
    ck_assert_ptr_nonnull(strstr(why, "_pki-validation.none.example.test"));
    ck_assert_ptr_nonnull(strstr(why, apr_psprintf(pool, "_%s.none.example.test", tok->md5)));
    /* bad input */
    o.nameserver = "not-an-address";
    ck_assert_int_eq(so_dcv_check_dns(pool, tok, "www.example.test", SO_DCV_CNAME, &o, &why),
                     APR_EINVAL);
    ck_assert_int_eq(so_dcv_check_dns(pool, tok, "www.example.test", SO_DCV_HTTP, NULL, &why),
                     APR_EINVAL);
}
END_TEST

START_TEST(dns_unreachable)
{
    so_dcv_opts_t o;
    const char *why = NULL;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    int u = socket(AF_INET, SOCK_DGRAM, 0), port;
    apr_time_t start;

    /* a UDP socket that never answers: the timeout */
    ck_assert_int_eq(bind(u, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(u, (struct sockaddr *)&a, &al), 0);
    memset(&o, 0, sizeof(o));
    o.nameserver = apr_psprintf(pool, "127.0.0.1:%d", ntohs(a.sin_port));
    o.timeout_ms = 1000;
    start = apr_time_now();
    ck_assert_int_eq(so_dcv_check_dns(pool, tok, "www.example.test", SO_DCV_CNAME, &o, &why),
                     APR_TIMEUP);
    ck_assert_int_lt(apr_time_now() - start, apr_time_from_msec(2500));
    ck_assert_ptr_nonnull(strstr(why, "no answer from the DNS server"));
    close(u);

    /* nothing listens: refused (ICMP port unreachable), unbound gives up (or times out) */
    port = free_port();
    o.nameserver = apr_psprintf(pool, "127.0.0.1:%d", port);
    ck_assert_int_ne(so_dcv_check_dns(pool, tok, "www.example.test", SO_DCV_CNAME, &o, &why),
                     APR_SUCCESS);
    ck_assert_msg(strstr(why, apr_psprintf(pool, "the DNS server 127.0.0.1:%d", port)) != NULL,
                  "%s", why);
}
END_TEST

/* The parser on the fuzzer's seeds (tests/fuzz/corpus/fuzz_dns, made by hand). */
static apr_status_t parse_seed(const char *seed, int qtype, int *rcode, apr_array_header_t **v)
{
    const char *dir = apr_pstrndup(pool, __FILE__, (apr_size_t)(strrchr(__FILE__, '/') - __FILE__));
    const char *path = apr_pstrcat(pool, dir, "/../fuzz/corpus/fuzz_dns/", seed, NULL), *why = NULL;
    unsigned char buf[4096];
    size_t n;
    FILE *f = fopen(path, "rb");
    apr_status_t rv;

    ck_assert_msg(f != NULL, "cannot open %s", path);
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    rv = so_dcv_dns_parse(pool, buf, n, qtype, rcode, v, &why);
    ck_assert(rv == APR_SUCCESS || why != NULL);
    return rv;
}

/* the example of draft-ietf-acme-dns-account-label */
START_TEST(account_label)
{
    ck_assert_str_eq(so_dcv_account_label(pool, "https://example.com/acme/acct/ExampleAccount"),
                     "_ujmmovf2vn55tgye");
    ck_assert_str_eq(so_dcv_account_label(pool, ""), "_4oymiquy7qobjgx3");
}
END_TEST

START_TEST(account_record)
{
    const char *why = NULL;
    so_dcv_token_t *t = NULL;
    so_dcv_instructions_t *in = NULL;
    const char *acct = "https://example.com/acme/acct/ExampleAccount";
    ck_assert_str_eq(so_dcv_account_record(pool, acct, "WWW.Example.org", &why),
                     "_ujmmovf2vn55tgye._acme-challenge.www.example.org");
    /* a wildcard at its base */
    ck_assert_str_eq(so_dcv_account_record(pool, acct, "*.example.org", &why),
                     "_ujmmovf2vn55tgye._acme-challenge.example.org");
    ck_assert_ptr_null(so_dcv_account_record(pool, NULL, "example.org", &why));
    ck_assert_ptr_null(so_dcv_account_record(pool, acct, "bad name!", &why));
    ck_assert_int_eq(so_dcv_token_hashes(&t, pool, "0123456789ABCDEF0123456789ABCDEF",
                                         "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
                                         "sslorders.local", NULL, &why),
                     APR_SUCCESS);
    ck_assert_int_eq(so_dcv_account_instructions(&in, pool, t, "*.example.org", acct, &why),
                     APR_SUCCESS);
    ck_assert_str_eq(in->record_name, "_ujmmovf2vn55tgye._acme-challenge.example.org");
    ck_assert_str_eq(in->record_type, "TXT");
    ck_assert_str_eq(in->record_value, t->dns_value);
    ck_assert_int_ne(so_dcv_account_instructions(&in, pool, t, "example.org", NULL, &why),
                     APR_SUCCESS);
}
END_TEST

START_TEST(dns_parse)
{
    const char *target = "0123456789ABCDEF0123456789ABCDEF.0123456789ABCDEF0123456789ABCDEF."
                         "0a1b2c3d4e.sslorders.local";
    apr_array_header_t *v;
    int rcode;

    ck_assert_int_eq(parse_seed("cname", 5, &rcode, &v), APR_SUCCESS);
    ck_assert_int_eq(rcode, 0);
    ck_assert_int_eq(v->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(v, 0, const char *), target);
    /* asking for TXT in the same answer finds nothing */
    ck_assert_int_eq(parse_seed("cname", 16, &rcode, &v), APR_SUCCESS);
    ck_assert_int_eq(v->nelts, 0);
    ck_assert_int_eq(parse_seed("cname_pointer", 5, &rcode, &v), APR_SUCCESS);
    ck_assert_str_eq(APR_ARRAY_IDX(v, 0, const char *), "other.www.example.test");
    ck_assert_int_eq(parse_seed("txt", 16, &rcode, &v), APR_SUCCESS);
    ck_assert_int_eq(v->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(v, 0, const char *), target); /* two strings joined */
    ck_assert_str_eq(APR_ARRAY_IDX(v, 1, const char *), "\"quoted value\"");
    ck_assert_int_eq(parse_seed("nxdomain", 5, &rcode, &v), APR_SUCCESS);
    ck_assert_int_eq(rcode, 3);
    ck_assert_int_eq(v->nelts, 0);
    ck_assert_int_eq(parse_seed("txt_bad_length", 16, &rcode, &v), APR_EINVAL);
    ck_assert_int_eq(parse_seed("cname_loop", 5, &rcode, &v), APR_EINVAL);
    ck_assert_int_eq(parse_seed("short", 5, &rcode, &v), APR_EINVAL);
    ck_assert_int_eq(parse_seed("count_lies", 5, &rcode, &v), APR_EINVAL);
}
END_TEST

TCase *so_test_dcv_case(void)
{
    TCase *tc = tcase_create("dcv");
    tcase_add_unchecked_fixture(tc, so_test_root_setup, so_test_root_teardown);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, values);
    tcase_add_test(tc, http_file);
    tcase_add_test(tc, http_wrong_content);
    tcase_add_test(tc, http_redirects);
    tcase_add_test(tc, https_file);
    tcase_add_test(tc, http_unreachable);
    tcase_add_test(tc, dns_records);
    tcase_add_test(tc, dns_unreachable);
    tcase_add_test(tc, dns_parse);
    tcase_add_test(tc, account_label);
    tcase_add_test(tc, account_record);
    return tc;
}
