package devstack

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
)

// devUser is created when a root machine has no postgres account.
const devUser = "shopdev"

// unprivilegedUser names the account that runs Postgres when we are root.
func unprivilegedUser() (string, error) {
	for _, name := range []string{"postgres", devUser} {
		if _, err := user.Lookup(name); err == nil {
			return name, nil
		}
	}
	out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", devUser).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("useradd %s: %w: %s", devUser, err, out)
	}
	return devUser, nil
}

// dataDirFor keeps the cluster in the stack's folder when its owner can
// reach it there; a checkout under /root is closed to other users, so the
// cluster then lives under the system temp dir, named after the checkout.
func dataDirFor(stackDir, osUser string) (string, error) {
	inside := filepath.Join(stackDir, "postgres")
	if osUser == "" || exec.Command("runuser", "-u", osUser, "--", "test", "-x", stackDir).Run() == nil {
		return inside, nil
	}
	sum := sha256.Sum256([]byte(stackDir))
	outside := filepath.Join(os.TempDir(), fmt.Sprintf("wa-shop-%x", sum[:6]), "postgres")
	if err := os.MkdirAll(filepath.Dir(outside), 0o755); err != nil {
		return "", err
	}
	return outside, nil
}
