/* Site seal: host matching, states, ids, and the SVG, script, snippets and report
 * parsed back (libxml2) with hostile input, plus the text helpers they use. */
#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "test_common.h"
#include "../../src/core/so_seal.h"
#include "../../src/core/so_text.h"

static apr_pool_t *pool;

#define HOSTILE "<script>alert(\"x\")</script>&amp;'\"><img src=x onerror=alert(1)>"
#define BASE "https://orders.example.net/seal"
#define SEAL_ID "AbCdEfGhIjKlMnOpQrStUv"

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static apr_array_header_t *names_of(const char *const *list)
{
    apr_array_header_t *a = apr_array_make(pool, 4, sizeof(const char *));
    for (; *list; list++) {
        APR_ARRAY_PUSH(a, const char *) = *list;
    }
    return a;
}

/* ---- text ---- */

START_TEST(text_helpers)
{
    apr_size_t i = 0;
    const char *s;

    s = "\xc3\xa9\xf0\x9f\x98\x80";
    ck_assert_int_eq(so_text_utf8_next(s, strlen(s), &i), 0xe9);
    ck_assert_int_eq(so_text_utf8_next(s, strlen(s), &i), 0x1f600);
    ck_assert_uint_eq(i, 6);
    ck_assert(so_text_utf8_valid("h\xc3\xa9llo", 6));
    ck_assert(!so_text_utf8_valid("\xc0\xaf", 2));             /* overlong '/' */
    ck_assert(!so_text_utf8_valid("\xe0\x80\xaf", 3));         /* overlong */
    ck_assert(!so_text_utf8_valid("\xed\xa0\x80", 3));         /* surrogate */
    ck_assert(!so_text_utf8_valid("\xf4\x90\x80\x80", 4));     /* > U+10FFFF */
    ck_assert(!so_text_utf8_valid("\xe2\x82", 2));             /* truncated */
    ck_assert(!so_text_utf8_valid("\x80", 1));

    ck_assert_str_eq(so_text_clean(pool, "  a\tb\r\n\x01 c  ", 0), "a b c");
    ck_assert_str_eq(so_text_clean(pool, "x\xff" "y", 0), "x\xef\xbf\xbdy");
    /* a right-to-left override cannot reorder the text around it */
    ck_assert_str_eq(so_text_clean(pool, "evil\xe2\x80\xaegpj.exe", 0), "evil gpj.exe");
    ck_assert_str_eq(so_text_clean(pool, "abcdefghij", 8), "abcde...");
    ck_assert_str_eq(so_text_clean(pool, "abcdefgh", 8), "abcdefgh");
    /* characters, not bytes */
    ck_assert_str_eq(so_text_clean(pool, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 4),
                     "\xc3\xa9...");
    ck_assert_str_eq(so_text_clean(pool, NULL, 0), "");
    ck_assert_str_eq(so_text_html_escape(pool, "<a href=\"x\">'&'</a>"),
                     "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}
END_TEST

/* ---- hosts, states, ids ---- */

START_TEST(host_matching)
{
    static const char *const names[] = {"example.com", "*.example.com", "Shop.Example.ORG.",
                                        NULL};
    static const char *const bad_names[] = {"*.*.example.net", "", "*", NULL};
    apr_array_header_t *n = names_of(names);

    ck_assert(so_seal_host_matches(n, "example.com"));
    ck_assert(so_seal_host_matches(n, "EXAMPLE.com"));
    ck_assert(so_seal_host_matches(n, "example.com."));
    ck_assert(so_seal_host_matches(n, "example.com:8443"));
    ck_assert(so_seal_host_matches(n, "www.example.com"));
    ck_assert(so_seal_host_matches(n, "WWW.Example.Com.:443"));
    ck_assert(so_seal_host_matches(n, "shop.example.org"));
    ck_assert(!so_seal_host_matches(n, "a.b.example.com"));  /* two labels */
    ck_assert(!so_seal_host_matches(n, ".example.com"));     /* empty label */
    ck_assert(!so_seal_host_matches(n, "wwwexample.com"));
    ck_assert(!so_seal_host_matches(n, "example.com.evil.net"));
    ck_assert(!so_seal_host_matches(n, "evil-example.com"));
    ck_assert(!so_seal_host_matches(n, "www.example.org"));
    ck_assert(!so_seal_host_matches(n, "example.com:http"));
    ck_assert(!so_seal_host_matches(n, "example.com:"));
    ck_assert(!so_seal_host_matches(n, "example.com.."));
    ck_assert(!so_seal_host_matches(n, ""));
    ck_assert(!so_seal_host_matches(n, NULL));
    ck_assert(!so_seal_host_matches(NULL, "example.com"));
    n = names_of(bad_names);
    ck_assert(!so_seal_host_matches(n, "a.b.example.net"));
    ck_assert(!so_seal_host_matches(n, "x"));
    /* the wildcard alone does not cover its base name */
    {
        static const char *const w[] = {"*.example.com", NULL};
        ck_assert(!so_seal_host_matches(names_of(w), "example.com"));
        ck_assert(so_seal_host_matches(names_of(w), "xn--bcher-kva.example.com"));
    }
    {
        static const char *const v6[] = {"::1", "[::1]", NULL};
        ck_assert(so_seal_host_matches(names_of(v6), "[::1]:8443"));
        ck_assert(so_seal_host_matches(names_of(v6), "[::1]"));
        ck_assert(so_seal_host_matches(names_of(v6), "::1"));
        ck_assert(!so_seal_host_matches(names_of(v6), "[::1]x"));
        ck_assert(!so_seal_host_matches(names_of(v6), "[::1"));
    }
}
END_TEST

START_TEST(states)
{
    static const char *const names[] = {"example.com", "www.example.com", NULL};
    so_seal_info_t in;

    memset(&in, 0, sizeof(in));
    in.domain = "example.com";
    in.names = names_of(names);
    in.not_before = 1000;
    in.not_after = 2000;
    in.now = 1500;
    in.host = "www.example.com";
    ck_assert_int_eq(so_seal_state_of(&in, 1, 1), SO_SEAL_VALID);
    ck_assert_int_eq(so_seal_state_of(&in, 0, 1), SO_SEAL_DISABLED);
    ck_assert_int_eq(so_seal_state_of(&in, 1, 0), SO_SEAL_PENDING);
    in.now = 2000;
    ck_assert_int_eq(so_seal_state_of(&in, 1, 1), SO_SEAL_EXPIRED);
    in.now = 999;
    ck_assert_int_eq(so_seal_state_of(&in, 1, 1), SO_SEAL_PENDING);
    in.now = 1500;
    in.revoked_at = 1200;
    ck_assert_int_eq(so_seal_state_of(&in, 1, 1), SO_SEAL_REVOKED);
    in.host = "copycat.example.net";
    ck_assert_int_eq(so_seal_state_of(&in, 1, 1), SO_SEAL_MISMATCH);
    ck_assert_int_eq(so_seal_state_of(&in, 0, 1), SO_SEAL_DISABLED);
    in.host = NULL; /* unknown: not a mismatch */
    in.revoked_at = 0;
    ck_assert_int_eq(so_seal_state_of(&in, 1, 1), SO_SEAL_VALID);
    ck_assert_str_eq(so_seal_state_name(SO_SEAL_MISMATCH), "mismatch");
    ck_assert_str_eq(so_seal_level_name(SO_SEAL_EV), "EV");
    {
        so_seal_level_t l;
        ck_assert_int_eq(so_seal_level_parse("Ov", &l), APR_SUCCESS);
        ck_assert_int_eq(l, SO_SEAL_OV);
        ck_assert_int_eq(so_seal_level_parse("xv", &l), APR_EINVAL);
    }
}
END_TEST

START_TEST(ids)
{
    const char *a, *b;
    apr_size_t i;

    ck_assert_int_eq(so_seal_new_id(&a, pool), APR_SUCCESS);
    ck_assert_int_eq(so_seal_new_id(&b, pool), APR_SUCCESS);
    ck_assert_uint_eq(strlen(a), 22); /* 128 bits */
    ck_assert_str_ne(a, b);
    for (i = 0; a[i]; i++) {
        ck_assert(apr_isalnum(a[i]) || a[i] == '-' || a[i] == '_');
    }
    ck_assert(so_seal_id_valid(a));
    ck_assert(!so_seal_id_valid("short"));
    ck_assert(!so_seal_id_valid("AbCdEfGhIjKlMnOp\"Qr"));
    ck_assert(!so_seal_id_valid("AbCdEfGhIjKlMnOp/../x"));
    ck_assert(!so_seal_id_valid(NULL));
}
END_TEST

/* ---- parsing the output back ---- */

/* the string value of an XPath expression over doc ("" when nothing) */
static const char *xpath_str(xmlDocPtr doc, const char *expr)
{
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr r;
    const char *s;

    xmlXPathRegisterNs(ctx, BAD_CAST "s", BAD_CAST "http://www.w3.org/2000/svg");
    r = xmlXPathEvalExpression(BAD_CAST expr, ctx);
    ck_assert_ptr_nonnull(r);
    {
        xmlChar *v = xmlXPathCastToString(r);
        s = apr_pstrdup(pool, (const char *)v);
        xmlFree(v);
    }
    xmlXPathFreeObject(r);
    xmlXPathFreeContext(ctx);
    return s;
}

static int xpath_count(xmlDocPtr doc, const char *expr)
{
    return atoi(xpath_str(doc, apr_psprintf(pool, "count(%s)", expr)));
}

static xmlDocPtr parse_xml(const char *s, apr_size_t len)
{
    xmlDocPtr doc = xmlReadMemory(s, (int)len, "seal.svg", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR
                                                                   | XML_PARSE_NOWARNING);
    ck_assert_msg(doc != NULL, "not well-formed XML:\n%s", s);
    return doc;
}

static xmlDocPtr parse_html(const char *s, apr_size_t len)
{
    htmlDocPtr doc = htmlReadMemory(s, (int)len, "report.html", "UTF-8",
                                    HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
    ck_assert_ptr_nonnull(doc);
    return doc;
}

static so_seal_info_t hostile_info(void)
{
    static const char *const names[] = {"example.com", "*.example.com", HOSTILE, NULL};
    so_seal_info_t in;
    apr_array_header_t *docs = apr_array_make(pool, 4, sizeof(so_seal_doc_t));
    so_seal_doc_t *d;

    memset(&in, 0, sizeof(in));
    in.seal_id = SEAL_ID;
    in.domain = "example.com";
    in.names = names_of(names);
    in.level = SO_SEAL_OV;
    in.state = SO_SEAL_VALID;
    in.org_name = "Acme & Sons <b>\"Ltd\"</b> " HOSTILE;
    in.org_city = "Saint-\xc3\x89tienne";
    in.org_state = "</style><script>alert(2)</script>";
    in.org_country = "FR";
    in.issuer = "Test Issuing CA";
    in.not_before = 1767323046;
    in.not_after = 1775099046;
    in.now = 1770000000;
    in.artifacts = 1;
    in.seal_base = BASE;
    d = apr_array_push(docs);
    d->name = "Registration <extract>.pdf";
    d->type = "pdf";
    d->url = "/seal/" SEAL_ID "/documents/1";
    d = apr_array_push(docs);
    d->name = "Evil link";
    d->type = "png";
    d->url = "javascript:alert(1)";
    d = apr_array_push(docs);
    d->name = "Quoted";
    d->type = "txt";
    d->url = "https://x.example/a\"onmouseover=alert(1)";
    in.documents = docs;
    return in;
}

START_TEST(svg_badge)
{
    so_seal_info_t in = hostile_info();
    const char *svg;
    apr_size_t len;
    xmlDocPtr doc;
    const char *domain;

    /* a hostile domain, quotes, & and a long unicode name */
    in.domain = HOSTILE;
    ck_assert_int_eq(so_seal_svg(&svg, &len, pool, &in), APR_SUCCESS);
    ck_assert_uint_eq(len, strlen(svg));
    ck_assert_ptr_null(strstr(svg, "<script"));
    ck_assert_ptr_null(strstr(svg, "<img"));
    doc = parse_xml(svg, len);
    ck_assert_str_eq(xpath_str(doc, "name(/*)"), "svg");
    ck_assert_int_eq(xpath_count(doc, "//*[local-name()='script']"), 0);
    ck_assert_int_eq(xpath_count(doc, "//@*[starts-with(name(), 'on')]"), 0);
    /* the title holds the whole name, as text */
    ck_assert_ptr_nonnull(strstr(xpath_str(doc, "/s:svg/s:title"), HOSTILE));
    ck_assert_str_eq(xpath_str(doc, "/s:svg/s:text[2]"), "OV");
    ck_assert_str_eq(xpath_str(doc, "/s:svg/s:text[3]"), "SECURED SITE");
    domain = xpath_str(doc, "/s:svg/s:text[4]");
    ck_assert_str_eq(domain, "<script>alert(\"x\")</s...");
    xmlFreeDoc(doc);

    in.domain = "\xe4\xbe\x8b\xe3\x81\x88\xe3\x81\xb0.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88."
                "xn--very-long-name-that-does-not-fit-the-badge.example.com\x01\xff";
    in.state = SO_SEAL_MISMATCH;
    in.level = SO_SEAL_DV;
    ck_assert_int_eq(so_seal_svg(&svg, &len, pool, &in), APR_SUCCESS);
    doc = parse_xml(svg, len);
    ck_assert_str_eq(xpath_str(doc, "/s:svg/s:text[3]"), "NOT VALID FOR THIS SITE");
    domain = xpath_str(doc, "/s:svg/s:text[4]");
    ck_assert_str_eq(domain, "\xe4\xbe\x8b\xe3\x81\x88\xe3\x81\xb0.\xe3\x83\x86\xe3\x82\xb9"
                             "\xe3\x83\x88.xn--very-long...");
    ck_assert_str_eq(xpath_str(doc, "/s:svg/s:text[5]"), "Domain validated");
    /* the invalid byte became U+FFFD, the control character is gone */
    ck_assert_ptr_nonnull(strstr(xpath_str(doc, "/s:svg/s:title"), "example.com \xef\xbf\xbd"));
    xmlFreeDoc(doc);

    in.state = SO_SEAL_EXPIRED;
    in.domain = "example.com";
    ck_assert_int_eq(so_seal_svg(&svg, &len, pool, &in), APR_SUCCESS);
    doc = parse_xml(svg, len);
    ck_assert_str_eq(xpath_str(doc, "/s:svg/s:text[3]"), "CERTIFICATE EXPIRED");
    ck_assert_str_eq(xpath_str(doc, "/s:svg/s:text[4]"), "example.com");
    xmlFreeDoc(doc);

    in.domain = NULL;
    ck_assert_int_eq(so_seal_svg(&svg, &len, pool, &in), APR_EINVAL);
}
END_TEST

START_TEST(embed_script)
{
    const char *js, *why = NULL;
    apr_size_t len;

    ck_assert_int_eq(so_seal_script(&js, &len, pool, BASE "/", SEAL_ID, &why), APR_SUCCESS);
    ck_assert_uint_eq(len, strlen(js));
    ck_assert_ptr_nonnull(
        strstr(js, "{\"base\":\"https:\\/\\/orders.example.net\\/seal\",\"id\":\"" SEAL_ID "\"}"));
    ck_assert_ptr_nonnull(strstr(js, "var s = d.currentScript;"));
    ck_assert_ptr_nonnull(strstr(js, "})(window, document);"));
    ck_assert_ptr_nonnull(strstr(js, "insertBefore(a, s.nextSibling)"));
    ck_assert_ptr_nonnull(strstr(js, "encodeURIComponent((w.location && w.location.hostname)"));
    ck_assert_ptr_nonnull(strstr(js, "u + \".svg\" + q"));
    ck_assert_ptr_nonnull(strstr(js, "u + \"/report\" + q"));
    ck_assert_ptr_null(strstr(js, "cookie"));
    ck_assert_ptr_null(strstr(js, "Storage"));
    ck_assert_ptr_null(strstr(js, "</script"));
    /* exactly one global: window.SSLOrdersSeal */
    ck_assert_ptr_nonnull(strstr(js, "w.SSLOrdersSeal = w.SSLOrdersSeal ||"));
    ck_assert_ptr_nonnull(strstr(js, "(function (w, d) {"));

    /* nothing can be smuggled in through the id or the base URL */
    ck_assert_int_eq(so_seal_script(&js, &len, pool, BASE, "x\";alert(1);//aaaaaaaa", &why),
                     APR_EINVAL);
    ck_assert_ptr_nonnull(why);
    ck_assert_int_eq(so_seal_script(&js, &len, pool, BASE "</script><script>alert(1)</script>",
                                    SEAL_ID, &why),
                     APR_EINVAL);
    ck_assert_int_eq(so_seal_script(&js, &len, pool, "javascript:alert(1)//", SEAL_ID, &why),
                     APR_EINVAL);
    ck_assert_int_eq(so_seal_script(&js, &len, pool, "https://user@evil/seal", SEAL_ID, &why),
                     APR_EINVAL);
    ck_assert_int_eq(so_seal_script(&js, &len, pool, "https://a/seal?x=1", SEAL_ID, &why),
                     APR_EINVAL);
    ck_assert_int_eq(so_seal_script(&js, &len, pool, "https:///seal", SEAL_ID, &why),
                     APR_EINVAL);
    ck_assert_int_eq(so_seal_script(&js, &len, pool, NULL, SEAL_ID, &why), APR_EINVAL);
}
END_TEST

START_TEST(snippets)
{
    so_seal_snippets_t *s;
    const char *why;
    xmlDocPtr doc;

    ck_assert_int_eq(so_seal_snippets(&s, pool, BASE, SEAL_ID, &why), APR_SUCCESS);
    ck_assert_str_eq(s->script, "<script src=\"" BASE "/" SEAL_ID ".js\" async></script>");
    ck_assert_str_eq(s->origin, "https://orders.example.net");
    doc = parse_html(s->nojs, strlen(s->nojs));
    ck_assert_str_eq(xpath_str(doc, "//a/@href"), BASE "/" SEAL_ID "/report");
    ck_assert_str_eq(xpath_str(doc, "//a/img/@src"), BASE "/" SEAL_ID ".svg");
    ck_assert_str_eq(xpath_str(doc, "//a/img/@referrerpolicy"), "origin");
    ck_assert_int_eq(xpath_count(doc, "//script"), 0);
    xmlFreeDoc(doc);
    ck_assert_str_eq(s->combined, apr_pstrcat(pool, s->script, "<noscript>", s->nojs,
                                              "</noscript>", NULL));
    ck_assert_int_eq(so_seal_snippets(&s, pool, "https://h:8443", SEAL_ID, &why), APR_SUCCESS);
    ck_assert_str_eq(s->origin, "https://h:8443");
    ck_assert_int_eq(so_seal_snippets(&s, pool, BASE "\" onload=\"x", SEAL_ID, &why), APR_EINVAL);
}
END_TEST

START_TEST(report_page)
{
    so_seal_info_t in = hostile_info();
    const char *html;
    apr_size_t len;
    xmlDocPtr doc;

    in.host = "www.example.com";
    in.seal_base = BASE "/";
    ck_assert_int_eq(so_seal_report_html(&html, &len, pool, &in), APR_SUCCESS);
    ck_assert(!strncmp(html, "<!DOCTYPE html>\n", 16));
    ck_assert_ptr_null(strstr(html, "<script"));
    ck_assert_ptr_null(strstr(html, "<img src=x"));
    ck_assert_ptr_null(strstr(html, "javascript:"));
    ck_assert_ptr_null(strstr(html, "onmouseover"));
    doc = parse_html(html, len);
    ck_assert_int_eq(xpath_count(doc, "//script"), 0);
    ck_assert_int_eq(xpath_count(doc, "//@*[starts-with(name(), 'on')]"), 0);
    ck_assert_int_eq(xpath_count(doc, "//style"), 1);
    ck_assert_str_eq(xpath_str(doc, "/html/head/title"), "Secured site report for example.com");
    ck_assert_str_eq(xpath_str(doc, "//h1"), "Secured site report for example.com");
    ck_assert_str_eq(xpath_str(doc, "//p[contains(@class,'status')]"),
                     "Status: Valid (from 2026-01-02 03:04:06 UTC to 2026-04-02 03:04:06 UTC)");
    ck_assert_str_eq(xpath_str(doc, "//img/@src"),
                     BASE "/" SEAL_ID ".svg?host=www.example.com");
    /* names, hostile one as text */
    ck_assert_int_eq(xpath_count(doc, "//dd/ul/li"), 3);
    ck_assert_str_eq(xpath_str(doc, "//dd/ul/li[3]"), HOSTILE);
    ck_assert_str_eq(xpath_str(doc, "//dt[.='Validation level']/following-sibling::dd[1]"),
                     "Organization validated (OV)");
    ck_assert_str_eq(xpath_str(doc, "//dt[.='Issuer']/following-sibling::dd[1]"),
                     "Test Issuing CA");
    ck_assert_str_eq(xpath_str(doc, "//dt[.='Issued']/following-sibling::dd[1]"),
                     "2026-01-02 03:04:06 UTC");
    ck_assert_str_eq(xpath_str(doc, "//dt[.='Expires']/following-sibling::dd[1]"),
                     "2026-04-02 03:04:06 UTC");
    /* the organization, as text */
    ck_assert_str_eq(xpath_str(doc, "//dt[.='Name']/following-sibling::dd[1]"),
                     "Acme & Sons <b>\"Ltd\"</b> " HOSTILE);
    ck_assert_str_eq(xpath_str(doc, "//dt[.='City']/following-sibling::dd[1]"),
                     "Saint-\xc3\x89tienne");
    ck_assert_str_eq(xpath_str(doc, "//dt[.='State']/following-sibling::dd[1]"),
                     "</style><script>alert(2)</script>");
    ck_assert_str_eq(xpath_str(doc, "//dt[.='Country']/following-sibling::dd[1]"), "FR");
    /* documents: one link; the javascript: and the quoted URL are not links */
    ck_assert_int_eq(xpath_count(doc, "//h2[.='Validation documents']"), 1);
    ck_assert_int_eq(xpath_count(doc, "//ul/li/a"), 1);
    ck_assert_str_eq(xpath_str(doc, "//ul/li/a/@href"), "/seal/" SEAL_ID "/documents/1");
    ck_assert_str_eq(xpath_str(doc, "//ul/li[a]"), "Registration <extract>.pdf (pdf)");
    ck_assert_int_eq(xpath_count(doc, "//li[.='Evil link (png)']"), 1);
    ck_assert_int_eq(xpath_count(doc, "//li[.='Quoted (txt)']"), 1);
    ck_assert_str_eq(xpath_str(doc, "//p[@class='asof']"),
                     "Report generated 2026-02-02 02:40:00 UTC.");
    xmlFreeDoc(doc);

    /* DV: no organization; artifacts off: no documents */
    in.level = SO_SEAL_DV;
    in.artifacts = 0;
    ck_assert_int_eq(so_seal_report_html(&html, &len, pool, &in), APR_SUCCESS);
    doc = parse_html(html, len);
    ck_assert_int_eq(xpath_count(doc, "//h2[.='Organization']"), 0);
    ck_assert_int_eq(xpath_count(doc, "//dt[.='Name']"), 0);
    ck_assert_ptr_null(strstr(html, "Acme"));
    ck_assert_int_eq(xpath_count(doc, "//h2[.='Validation documents']"), 0);
    xmlFreeDoc(doc);

    /* a hostile host: not valid for this site, and the request's text is not printed
     * anywhere (issue 14: spoofed messages on the CA's own site) */
    in.level = SO_SEAL_EV;
    in.state = SO_SEAL_MISMATCH;
    in.host = "evil.example\"><script>alert(3)</script>";
    ck_assert_int_eq(so_seal_report_html(&html, &len, pool, &in), APR_SUCCESS);
    ck_assert_ptr_null(strstr(html, "<script"));
    ck_assert_ptr_null(strstr(html, "evil"));
    doc = parse_html(html, len);
    ck_assert_str_eq(xpath_str(doc, "//p[contains(@class,'status')]"),
                     "Status: Not valid for this site");
    ck_assert_str_eq(xpath_str(doc, "//img/@src"), BASE "/" SEAL_ID ".svg");
    ck_assert_int_eq(xpath_count(doc, "//h2[.='Organization']"), 1);
    xmlFreeDoc(doc);

    /* the other states in words */
    {
        static const struct {
            so_seal_state_t st;
            const char *words;
        } w[] = {{SO_SEAL_EXPIRED, "Status: Expired on 2026-04-02 03:04:06 UTC"},
                 {SO_SEAL_REVOKED, "Status: Revoked on 2026-02-01 00:00:00 UTC"},
                 {SO_SEAL_PENDING, "Status: Pending issuance"},
                 {SO_SEAL_DISABLED, "Status: Disabled: this site seal is not active"}};
        size_t i;
        in.revoked_at = 1769904000;
        for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
            in.state = w[i].st;
            ck_assert_int_eq(so_seal_report_html(&html, &len, pool, &in), APR_SUCCESS);
            doc = parse_html(html, len);
            ck_assert_str_eq(xpath_str(doc, "//p[contains(@class,'status')]"), w[i].words);
            /* a disabled seal shows nothing but its state */
            ck_assert_int_eq(xpath_count(doc, "//h2[.='Organization']"),
                             w[i].st == SO_SEAL_DISABLED ? 0 : 1);
            xmlFreeDoc(doc);
        }
    }
    in.domain = NULL;
    ck_assert_int_eq(so_seal_report_html(&html, &len, pool, &in), APR_EINVAL);
}
END_TEST

/* white-label: the provider's name, color and support link; hostile values stay text */
START_TEST(brand)
{
    so_seal_info_t in = hostile_info();
    const char *html, *svg;
    apr_size_t len;
    xmlDocPtr doc;

    in.domain = "www.example.com";
    /* no brand: the report has its icon, the badge its level words */
    ck_assert_int_eq(so_seal_report_html(&html, &len, pool, &in), APR_SUCCESS);
    doc = parse_html(html, len);
    ck_assert_int_eq(xpath_count(doc, "//link[@rel='icon' and starts-with(@href, 'data:image/svg+xml,')]"), 1);
    ck_assert_int_eq(xpath_count(doc, "//a[.='Help and support']"), 0);
    xmlFreeDoc(doc);
    in.brand_name = "Acme <Hosting> & Co";
    in.brand_color = "#aa1122";
    in.support_url = "mailto:help@acme.example";
    ck_assert_int_eq(so_seal_report_html(&html, &len, pool, &in), APR_SUCCESS);
    doc = parse_html(html, len);
    ck_assert_str_eq(xpath_str(doc, "string(//title)"), "Secured site report for www.example.com — Acme <Hosting> & Co");
    ck_assert_int_eq(xpath_count(doc, "//p[contains(., 'by Acme <Hosting> & Co')]"), 1);
    ck_assert_int_eq(xpath_count(doc, "//a[@href='mailto:help@acme.example']"), 1);
    ck_assert_ptr_nonnull(strstr(html, "%23aa1122"));
    ck_assert_ptr_nonnull(strstr(html, "border-top:4px solid #aa1122"));
    xmlFreeDoc(doc);
    /* a color or link that could escape is not used */
    in.brand_color = "red;}body{x";
    in.support_url = "javascript:alert(1)";
    ck_assert_int_eq(so_seal_report_html(&html, &len, pool, &in), APR_SUCCESS);
    ck_assert_ptr_null(strstr(html, "red;}"));
    ck_assert_ptr_null(strstr(html, "javascript:"));
    ck_assert_int_eq(so_seal_svg(&svg, &len, pool, &in), APR_SUCCESS);
    doc = parse_xml(svg, len);
    ck_assert_int_eq(xpath_count(doc, "//*[local-name()='text' and .='Acme <Hosting> & Co']"), 1);
    ck_assert_ptr_nonnull(strstr(xpath_str(doc, "string(//*[local-name()='title'])"), "verified by Acme"));
    xmlFreeDoc(doc);
}
END_TEST

TCase *so_test_seal_case(void)
{
    TCase *tc = tcase_create("seal");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, text_helpers);
    tcase_add_test(tc, host_matching);
    tcase_add_test(tc, states);
    tcase_add_test(tc, ids);
    tcase_add_test(tc, svg_badge);
    tcase_add_test(tc, embed_script);
    tcase_add_test(tc, snippets);
    tcase_add_test(tc, report_page);
    tcase_add_test(tc, brand);
    return tc;
}
