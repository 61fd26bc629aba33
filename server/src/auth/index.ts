export { AccessControl, forbidden } from './access-control.js';
export { API_TOKEN_PREFIX, AuthService, hashApiToken, unauthorized } from './auth-service.js';
export { hasRole, roleIn, visibleProjects, type Principal } from './principal.js';
export { JWT_AUDIENCE, JWT_ISSUER, TokenSigner } from './token-signer.js';
