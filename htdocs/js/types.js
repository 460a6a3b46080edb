// The shapes of the API's answers the portal reads, as the server writes them
// (README "The API"). JSDoc only: editors and `tsc --checkJs` read them; nothing runs.

/**
 * @typedef {object} Order  GET /ssl/orders/{id}, an item of GET /ssl/orders
 * @property {number} id
 * @property {number} product_id
 * @property {string} product_name
 * @property {'PAI'|'REQ'|'ACT'|'EXP'|'REJ'|'FAI'} status
 * @property {string} common_name  "" until the details are submitted
 * @property {string[]} host_names
 * @property {number} period
 * @property {string} order_date  "YYYY-MM-DD hh:mm:ss" UTC, "" when not set (so are the other dates)
 * @property {string} active_date
 * @property {string} expiration_date
 * @property {string} order_ends_at
 * @property {'on'|'off'} autorenew
 * @property {string} csr
 * @property {string} certificate
 * @property {string} software
 * @property {'domain'|'organization'|'extended'} validation_method
 * @property {string} email_approver
 * @property {string} organization_handle
 * @property {string} administrative_handle
 * @property {string} technical_handle
 * @property {string} billing_handle
 * @property {{host_name: string, method: string}[]} domain_validation_methods
 * @property {AdditionalData[]} additional_data
 * @property {number} domain_amount
 * @property {number} wildcard_domain_amount
 * @property {string} price
 * @property {string} currency
 * @property {number|null} folder_id
 * @property {string[]} tags
 * @property {number|null} renewal_of  the order this one renews (bought in the cart)
 * @property {{id: number, status: string}|null} renewed_by  its renewal, once bought
 */

/**
 * @typedef {object} AdditionalData  what to publish for one name (Order.additional_data)
 * @property {string} domain
 * @property {string} method
 * @property {string} file_location
 * @property {string} file_contents
 * @property {string} dns_record
 * @property {string} dns_value
 * @property {string} dns_txt_record
 * @property {string} [dns_persist_record]  dns-persist: _validation-persist.<name>
 * @property {string} [dns_persist_value]
 * @property {string} [dns_account_record]  dns-account: _<label>._acme-challenge.<name>
 * @property {string} [dns_account_value]
 */

/**
 * @typedef {object} Validation  GET /ssl/orders/{id}/validation
 * @property {string} status
 * @property {boolean} reissue_pending
 * @property {string} next_check_at
 * @property {ValidationName[]} names
 * @property {number} validated
 * @property {number} total
 * @property {{required: boolean, status: string, reason: string, checked_at: string, documents: number[]}} organization
 */

/**
 * @typedef {object} ValidationName
 * @property {string} host_name
 * @property {string} method
 * @property {string} state  pending | valid | failed | ...
 * @property {string} validated_at
 * @property {string} last_check_at  when the server last checked this name ("" never)
 * @property {string} last_error
 * @property {{text: string, url: string, file_name: string, file_body: string, record_name: string,
 *   record_type: string, record_value: string, txt_record_name: string}} instructions
 * @property {{status: string, mode: string, detail: string, checked_at: string,
 *   perspectives: {name: string, agreed: boolean, detail: string}[]}|null} [mpic]  which remote
 *   perspectives corroborated the name (null: MPIC off or not run yet)
 */

/**
 * @typedef {object} Folder  an item of GET /folders
 * @property {number} id
 * @property {number|null} parent_id
 * @property {string} name
 * @property {string} role  archived | default | expired | active | revoked | ""
 * @property {boolean} is_default
 * @property {number} orders
 */

/**
 * @typedef {object} Cart  GET /cart
 * @property {CartItem[]} results
 * @property {number} total
 * @property {string} amount
 * @property {string} currency
 * @property {number} quantity
 * @property {boolean} valid
 */

/**
 * @typedef {object} CartItem
 * @property {number} id
 * @property {number} product_id
 * @property {string} product_name
 * @property {number} period
 * @property {number} quantity
 * @property {number|null} renewal_of
 * @property {string} renewal_common_name
 * @property {string} amount
 * @property {boolean} valid
 * @property {number} problem_code
 * @property {string} problem
 */

/**
 * @typedef {object} Reminders  GET /ssl/orders/{id}/reminders
 * @property {boolean} enabled
 * @property {number[]} days_before
 * @property {number[]} days_after
 * @property {string[]} recipients
 */

/**
 * @typedef {object} Branding  GET /branding (public)
 * @property {string} name
 * @property {string} logo
 * @property {string} color
 * @property {string} support_url
 */

export {};
