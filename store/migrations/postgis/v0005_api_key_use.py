"""When each API key was last used (``ember apikey list`` shows it): an administrator sees which
client systems still call and which keys lie unused and should be disabled. Written at most
once a minute per key (:meth:`store.apikeys.ApiKeyStore.apikey_touch`)."""

SQL = r"""
ALTER TABLE api_keys ADD COLUMN last_used_at timestamptz;
"""
