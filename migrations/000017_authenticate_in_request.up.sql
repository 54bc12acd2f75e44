-- Authentication inside the request's own transaction, in one statement.
--
-- A request used to authenticate its bearer token in a transaction of its
-- own (BEGIN, app_set_context, the token lookup, COMMIT) before the
-- handler's transaction (BEGIN, app_set_context, the tenant's settings,
-- the query, COMMIT): ten round trips for a customer read whose raw work
-- takes four. app_authenticate looks the token up and sets the request's
-- context in one statement, the first of the request's one transaction, so
-- that the handler's query follows at once.
--
-- It runs as the caller (not SECURITY DEFINER): the lookup runs under
-- row-level security in the tenant's system scope, exactly as the separate
-- transaction did. When the token, its user and its tenant are valid it
-- leaves the user's own scope in place (tenant, user, visibility, and for
-- a portal user the one customer); otherwise it clears the context, so
-- nothing of the tenant stays visible to the transaction, and the caller
-- refuses the request. The scope it sets is returned with the row
-- (scope_visibility, scope_customer_id): the application builds its
-- principal from those columns, so the rule lives here only.
--
-- Every column is NOT NULL (sqlc types a function's columns as it reads
-- their casts): a missing built-in role, custom role or portal customer is
-- '' or the nil UUID, and touch_due says whether last_used_at is older than
-- a minute (the application then records the use outside the request).
--
-- settings_version and fields_version identify the tenant's settings and
-- custom field definitions as of this transaction: a process caches what
-- it read of them per tenant and reads again only when either moved.
-- fields_version is new: custom field definitions live in their own table,
-- and their writes bump it (the settings' own version is the ETag of the
-- settings resource, which a new field must not invalidate).
ALTER TABLE tenant_settings ADD COLUMN fields_version bigint NOT NULL DEFAULT 1;

CREATE FUNCTION app_authenticate(p_tenant uuid, p_token_hash bytea)
RETURNS TABLE (
    token_id          uuid,
    touch_due         boolean,
    expired           boolean,
    user_id           uuid,
    email             text,
    name              text,
    builtin_role      text,
    user_status       text,
    role_name         text,
    role_permissions  text[],
    tenant_status     text,
    tenant_slug       text,
    scope_visibility  text,
    scope_customer_id uuid,
    settings_version  bigint,
    fields_version    bigint
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    r record;
BEGIN
    PERFORM public.app_set_context(p_tenant, NULL, 'all', NULL);
    SELECT t.id AS token_id,
           (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute') AS touch_due,
           (t.expires_at IS NOT NULL AND t.expires_at <= now()) AS expired,
           u.id AS user_id, u.email, u.name, coalesce(u.builtin_role, '') AS builtin_role, u.status AS user_status,
           coalesce(ro.name, '') AS role_name, coalesce(ro.permissions, '{}') AS role_permissions,
           tn.status AS tenant_status, tn.slug AS tenant_slug,
           CASE WHEN u.builtin_role = 'portal' THEN 'portal' ELSE u.visibility END AS scope_visibility,
           CASE WHEN u.builtin_role = 'portal' THEN u.customer_id END AS scope_customer_id,
           coalesce(s.version, 0) AS settings_version, coalesce(s.fields_version, 0) AS fields_version
      INTO r
      FROM public.api_tokens t
      JOIN public.users u ON u.tenant_id = t.tenant_id AND u.id = t.user_id
      JOIN public.tenants tn ON tn.id = t.tenant_id
      LEFT JOIN public.roles ro ON ro.tenant_id = u.tenant_id AND ro.id = u.role_id
      LEFT JOIN public.tenant_settings s ON s.tenant_id = t.tenant_id
     WHERE t.tenant_id = p_tenant AND t.token_hash = p_token_hash;
    IF NOT FOUND THEN
        PERFORM public.app_set_context(NULL, NULL, NULL, NULL);
        RETURN;
    END IF;
    IF r.expired OR r.user_status <> 'active' OR r.tenant_status <> 'active' THEN
        PERFORM public.app_set_context(NULL, NULL, NULL, NULL);
    ELSE
        PERFORM public.app_set_context(p_tenant, r.user_id, r.scope_visibility, r.scope_customer_id);
    END IF;
    RETURN QUERY SELECT r.token_id, r.touch_due, r.expired, r.user_id, r.email, r.name, r.builtin_role,
        r.user_status, r.role_name, r.role_permissions, r.tenant_status, r.tenant_slug,
        r.scope_visibility, coalesce(r.scope_customer_id, '00000000-0000-0000-0000-000000000000'::uuid), r.settings_version, r.fields_version;
END
$$;
REVOKE ALL ON FUNCTION app_authenticate(uuid, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_authenticate(uuid, bytea) TO customerhub_app;
