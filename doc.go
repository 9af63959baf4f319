// Package chatauth gives Go chat servers the authentication hooks that
// Chainlit gives Python chat apps.
package chatauth
