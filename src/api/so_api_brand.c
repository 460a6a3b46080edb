/* mod_sslorders: the provider's brand (white-label, issue 17). The portal asks
 * GET /branding before anything else; mails, seals and their report take the
 * same values from the server's (or virtual host's) configuration. */
#include <string.h>

#include "so_api.h"
#include "so_api_brand.h"

void so_brand(const so_config_t *cfg, so_brand_t *out)
{
    out->name = cfg->brand_name && *cfg->brand_name ? cfg->brand_name : SO_BRAND_DEFAULT_NAME;
    out->logo = cfg->brand_logo && *cfg->brand_logo ? cfg->brand_logo : SO_BRAND_DEFAULT_LOGO;
    out->color = cfg->brand_color && *cfg->brand_color ? cfg->brand_color : SO_BRAND_DEFAULT_COLOR;
    out->support_url = cfg->support_url ? cfg->support_url : "";
}

/* GET /branding (public) */
static apr_status_t branding(so_req_t *req)
{
    so_brand_t b;
    so_brand(req->cfg, &b);
    return so_api_ok(req, json_pack("{s:s,s:s,s:s,s:s}", "name", b.name, "logo", b.logo, "color",
                                    b.color, "support_url", b.support_url));
}

const so_route_t so_routes_brand[] = {
    {"GET", "/branding", branding, SO_ROLE_NONE, SO_RF_PUBLIC},
    {NULL, NULL, NULL, SO_ROLE_NONE, 0}};
