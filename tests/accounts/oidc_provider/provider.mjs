// A real OpenID Connect provider for the single sign-on tests: npm's oidc-provider,
// listening on 127.0.0.1 only.
//
//   node provider.mjs CONFIG.json
//
// CONFIG.json: {"port": 5xxxx, "client": {client_id, client_secret, redirect_uris,
// post_logout_redirect_uris}, "accounts_file": "/path/accounts.json"}.
// accounts.json maps each account id (its `sub`) to its claims, e.g.
// {"finance-admin": {"email": "...", "name": "...", "groups": ["ims-finance-admins"]}}.
// It is read afresh at every sign-in, so a test can take someone out of a group at the
// provider between two sign-ins by rewriting it.
//
// Sign-in uses oidc-provider's development login page (any password; the login is the
// account id). Consent is taken as given, as it is for a council's own applications.

import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = `http://127.0.0.1:${config.port}`;

function accounts() {
  return JSON.parse(readFileSync(config.accounts_file, 'utf8'));
}

const provider = new Provider(issuer, {
  clients: [
    {
      ...config.client,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    },
  ],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    groups: ['groups'],
    council: ['council'],
  },
  scopes: ['openid', 'email', 'profile', 'groups', 'council'],
  async findAccount(ctx, id) {
    const claims = accounts()[id];
    if (!claims) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email_verified: true, ...claims };
      },
    };
  },
  // The council's own application: whatever it asks for is granted without a consent page.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      accountId: ctx.oidc.session.accountId,
      clientId: ctx.oidc.client.clientId,
    });
    grant.addOIDCScope(ctx.oidc.params.scope);
    await grant.save();
    return grant;
  },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  ttl: { Session: 3600, Interaction: 600, Grant: 3600, AccessToken: 600, IdToken: 600 },
});

provider.on('server_error', (ctx, error) => console.error('server_error', error));

const server = provider.listen(config.port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
