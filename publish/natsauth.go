package publish

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// hasExternalOptions reports whether any setting for an external server is present.
func (c *NATSConfig) hasExternalOptions() bool {
	return c.User != "" || c.Password != "" || c.Token != "" || c.NKeySeedFile != "" || c.CredsFile != "" || c.TLS != nil
}

// externalOptions turns the credentials and TLS files into client options. Files are read now,
// so a missing or malformed one stops start-up with its variable named. The client reads the
// .creds file again at every (re)connect, so a renewed user JWT needs no restart.
func (c *NATSConfig) externalOptions() ([]nats.Option, error) {
	var opts []nats.Option
	if c.User != "" || c.Password != "" {
		opts = append(opts, nats.UserInfo(c.User, c.Password))
	}
	if c.Token != "" {
		opts = append(opts, nats.Token(c.Token))
	}
	if c.NKeySeedFile != "" && c.CredsFile != "" {
		return nil, errors.New("CALLBRIDGE_NATS_NKEY_SEED_FILE and CALLBRIDGE_NATS_CREDS_FILE: set one, not both (a .creds file holds its own NKey seed)")
	}
	if c.NKeySeedFile != "" {
		o, err := nats.NkeyOptionFromSeed(c.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("CALLBRIDGE_NATS_NKEY_SEED_FILE %s: %w", c.NKeySeedFile, err)
		}
		opts = append(opts, o)
	}
	if c.CredsFile != "" {
		if err := checkCredsFile(c.CredsFile); err != nil {
			return nil, fmt.Errorf("CALLBRIDGE_NATS_CREDS_FILE %s: %w", c.CredsFile, err)
		}
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	}
	if c.TLS != nil {
		tc, err := c.TLS.Config()
		if err != nil {
			return nil, fmt.Errorf("NATS client TLS (CALLBRIDGE_NATS_TLS_*): %w", err)
		}
		opts = append(opts, nats.Secure(tc))
	}
	return opts, nil
}

// checkCredsFile checks that path holds a user JWT, not expired, and a user NKey seed. Error
// messages name what is wrong, never the file's content.
func checkCredsFile(path string) error {
	contents, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	defer clear(contents) // the seed
	token, err := nkeys.ParseDecoratedJWT(contents)
	if err != nil {
		return fmt.Errorf("no user JWT: %w", err)
	}
	claims, err := jwt.DecodeUserClaims(token)
	if err != nil {
		return fmt.Errorf("no valid user JWT: %w", err)
	}
	if claims.Expires > 0 && time.Unix(claims.Expires, 0).Before(time.Now()) {
		return fmt.Errorf("the user JWT for %s expired at %s", claims.Subject, time.Unix(claims.Expires, 0).UTC().Format(time.RFC3339))
	}
	kp, err := nkeys.ParseDecoratedUserNKey(contents)
	if err != nil {
		return fmt.Errorf("no user NKey seed: %w", err)
	}
	defer kp.Wipe()
	pub, err := kp.PublicKey()
	if err != nil {
		return fmt.Errorf("no user NKey seed: %w", err)
	}
	if pub != claims.Subject {
		return fmt.Errorf("the NKey seed (public key %s) does not belong to the user JWT (subject %s)", pub, claims.Subject)
	}
	return nil
}

// connectError names what failed and which settings to check. It keeps err wrapped (the caller
// retries nats.ErrNoServers) and never quotes a secret: the client's errors carry none.
func (c *NATSConfig) connectError(err error) error {
	text := strings.ToLower(err.Error())
	var verify *tls.CertificateVerificationError
	switch {
	case errors.Is(err, nats.ErrAuthorization) || strings.Contains(text, "authorization violation"):
		return fmt.Errorf("NATS authorization violation: %s: %w", c.credentialHint(), err)
	case errors.Is(err, nats.ErrAuthExpired) || errors.Is(err, nats.ErrAccountAuthExpired) || strings.Contains(text, "authentication expired"):
		return fmt.Errorf("NATS credentials expired: renew the user JWT in CALLBRIDGE_NATS_CREDS_FILE: %w", err)
	case errors.Is(err, nats.ErrAuthRevoked) || strings.Contains(text, "authentication revoked"):
		return fmt.Errorf("NATS credentials revoked: the account no longer accepts the user of CALLBRIDGE_NATS_CREDS_FILE: %w", err)
	case errors.Is(err, nats.ErrSecureConnWanted):
		return fmt.Errorf("NATS server does not offer TLS, but a tls:// CALLBRIDGE_NATS_URL or CALLBRIDGE_NATS_TLS_* asks for it: %w", err)
	case errors.As(err, &verify):
		return fmt.Errorf("NATS server certificate not trusted: check CALLBRIDGE_NATS_TLS_CA_FILE (and that the certificate names the host of CALLBRIDGE_NATS_URL): %w", err)
	case errors.Is(err, nats.ErrTLS):
		return fmt.Errorf("NATS TLS handshake failed: check CALLBRIDGE_NATS_TLS_* and the server's tls settings: %w", err)
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, nats.ErrTimeout) {
		// The connection broke while it was being made (a server restarting): worth retrying.
		return fmt.Errorf("%w: connect to NATS: %w", ErrNotReady, err)
	}
	return fmt.Errorf("connect to NATS: %w", err)
}

// credentialHint names the settings that produced the credentials the server refused.
func (c *NATSConfig) credentialHint() string {
	var set []string
	if c.User != "" {
		set = append(set, "CALLBRIDGE_NATS_USER/PASSWORD")
	}
	if c.Token != "" {
		set = append(set, "CALLBRIDGE_NATS_TOKEN")
	}
	if c.NKeySeedFile != "" {
		set = append(set, "CALLBRIDGE_NATS_NKEY_SEED_FILE (its public key must be a user on the server)")
	}
	if c.CredsFile != "" {
		set = append(set, "CALLBRIDGE_NATS_CREDS_FILE (its account must be known to the server)")
	}
	if u, err := url.Parse(c.URL); err == nil && u.User != nil {
		set = append(set, "the user information in CALLBRIDGE_NATS_URL")
	}
	if len(set) == 0 {
		return "the server wants credentials: set CALLBRIDGE_NATS_USER/PASSWORD, CALLBRIDGE_NATS_TOKEN, CALLBRIDGE_NATS_NKEY_SEED_FILE or CALLBRIDGE_NATS_CREDS_FILE"
	}
	return "check " + strings.Join(set, " and ")
}
