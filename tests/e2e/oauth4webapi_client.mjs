// An independent relying party built with panva's oauth4webapi, as its README and FAPI 2.0 example
// use it: discovery, PAR with private_key_jwt and DPoP, the callback with RFC 9207 iss validation, the
// code exchange, UserInfo and a refresh, each retried once on `use_dpop_nonce` as the docs show.
//
//   node oauth4webapi_client.mjs push STATE_FILE      (reads ISSUER, CLIENT_ID, CLIENT_JWK, REDIRECT_URI)
//   node oauth4webapi_client.mjs callback STATE_FILE CALLBACK_URL
// Prints one JSON object on stdout.
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const oauth = await import(require.resolve('oauth4webapi', { paths: [process.env.NPM_LOCAL] }))
const insecure = { [oauth.allowInsecureRequests]: true } // the test server is http://127.0.0.1

const [mode, stateFile, callbackUrl] = process.argv.slice(2)
const issuer = new URL(process.env.ISSUER)
const client = { client_id: process.env.CLIENT_ID }
const clientJwk = JSON.parse(process.env.CLIENT_JWK)
const clientKey = await crypto.subtle.importKey('jwk', clientJwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])
const clientAuth = oauth.PrivateKeyJwt({ key: clientKey, kid: clientJwk.kid })
const redirectUri = process.env.REDIRECT_URI

const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure))

async function withNonceRetry (request, process) {
  try {
    return await process(await request())
  } catch (err) {
    if (oauth.isDPoPNonceError(err)) return await process(await request()) // the handle kept the nonce
    throw err
  }
}

async function dpopKeys (saved) {
  if (!saved) return oauth.generateKeyPair('ES256', { extractable: true })
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256' }
  return {
    privateKey: await crypto.subtle.importKey('jwk', saved.privateKey, algorithm, true, ['sign']),
    publicKey: await crypto.subtle.importKey('jwk', saved.publicKey, algorithm, true, ['verify'])
  }
}

const out = {}
if (mode === 'push') {
  const keys = await dpopKeys()
  const DPoP = oauth.DPoP(client, keys)
  const codeVerifier = oauth.generateRandomCodeVerifier()
  const nonce = oauth.generateRandomNonce()
  const params = new URLSearchParams({
    redirect_uri: redirectUri, scope: 'openid profile offline_access', response_type: 'code', nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256'
  })
  const pushed = await withNonceRetry(
    () => oauth.pushedAuthorizationRequest(as, client, clientAuth, params, { DPoP, ...insecure }),
    (response) => oauth.processPushedAuthorizationResponse(as, client, response))
  const authorizationUrl = new URL(as.authorization_endpoint)
  authorizationUrl.searchParams.set('client_id', client.client_id)
  authorizationUrl.searchParams.set('request_uri', pushed.request_uri)
  writeFileSync(stateFile, JSON.stringify({
    codeVerifier, nonce,
    keys: {
      privateKey: await crypto.subtle.exportKey('jwk', keys.privateKey),
      publicKey: await crypto.subtle.exportKey('jwk', keys.publicKey)
    }
  }))
  Object.assign(out, { authorization_url: authorizationUrl.href, expires_in: pushed.expires_in })
} else if (mode === 'callback') {
  const saved = JSON.parse(readFileSync(stateFile, 'utf8'))
  const DPoP = oauth.DPoP(client, await dpopKeys(saved.keys))
  const params = oauth.validateAuthResponse(as, client, new URL(callbackUrl), oauth.expectNoState)
  const tokens = await withNonceRetry(
    () => oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, redirectUri, saved.codeVerifier,
      { DPoP, ...insecure }),
    (response) => oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: saved.nonce }))
  const claims = oauth.getValidatedIdTokenClaims(tokens)
  const userinfo = await withNonceRetry(
    () => oauth.userInfoRequest(as, client, tokens.access_token, { DPoP, ...insecure }),
    (response) => oauth.processUserInfoResponse(as, client, claims.sub, response))
  const refreshed = await withNonceRetry(
    () => oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, { DPoP, ...insecure }),
    (response) => oauth.processRefreshTokenResponse(as, client, response))
  Object.assign(out, {
    token_type: tokens.token_type, sub: claims.sub, userinfo, refreshed_token_type: refreshed.token_type,
    access_token: refreshed.access_token, dpop_public_jwk: saved.keys.publicKey
  })
}
process.stdout.write(JSON.stringify(out))
