// Command chat lets a person play the customer against the local shop
// (./build.sh dev). What you type is posted to the shop's webhook as a signed
// WhatsApp notification, as Meta would post it; what the shop sends back
// through the Graph API stand-in is printed as WhatsApp would show it.
//
//	go run ./cmd/chat [-url http://localhost:8888] [-graph URL] [-stripe URL]
//	                  [-wa-id 15551234567] [-name Ada] [-say "menu"] [-wait 10s]
//
// In the chat, a number answers the last list or buttons, /pay pays the last
// checkout link through the Stripe stand-in, Enter alone shows messages that
// arrived since, and /quit leaves. -say sends one message, prints the replies
// and exits (non-zero when none came), for scripts and tests.
//
// The stand-ins listen on random ports: cmd/dev writes their URLs to
// .dev/local/standins.json, which chat reads; flags win. The app secret and
// phone number id come from WHATSAPP_APP_SECRET and WHATSAPP_PHONE_NUMBER_ID,
// with cmd/dev's defaults; `./build.sh chat` loads .env as `./build.sh dev`
// does, so both sides agree.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

// devDefaults are cmd/dev's values for what chat signs and addresses with,
// so a chat started without .env speaks to a dev shop started without one.
var devDefaults = map[string]string{
	"WHATSAPP_APP_SECRET":      "dev-app-secret",
	"WHATSAPP_PHONE_NUMBER_ID": "100000000000001",
}

// config is what a chat needs to know; see the package comment.
type config struct {
	webhookURL, graphURL, stripeURL string
	appSecret, phoneNumberID        string
	waID, name, say                 string
	wait                            time.Duration
}

// standinsFile is what cmd/dev writes to .dev/local/standins.json.
type standinsFile struct {
	Graph   string `json:"graph"`
	Stripe  string `json:"stripe"`
	Webhook string `json:"webhook"`
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, getenv func(string) string) error {
	cfg, err := parseConfig(args, stdout, getenv)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	c := newChat(cfg, stdout)
	// Earlier conversations stay in the stand-in; only what comes next is new.
	if err := c.catchUp(ctx); err != nil {
		return err
	}
	if cfg.say != "" {
		return c.sayOnce(ctx, cfg.say)
	}
	return c.loop(ctx, stdin)
}

func parseConfig(args []string, stdout io.Writer, getenv func(string) string) (config, error) {
	fl := flag.NewFlagSet("chat", flag.ContinueOnError)
	fl.SetOutput(stdout)
	base := fl.String("url", "", "the shop's base URL; its webhook is <url>/webhook (default from the stand-ins file, else http://localhost:8888)")
	graph := fl.String("graph", "", "the Graph API stand-in's URL (default from the stand-ins file)")
	stripe := fl.String("stripe", "", "the Stripe stand-in's URL, for /pay (default from the stand-ins file)")
	file := fl.String("standins", ".dev/local/standins.json", "where ./build.sh dev wrote the stand-ins' URLs")
	var cfg config
	fl.StringVar(&cfg.waID, "wa-id", "15551234567", "your WhatsApp id (phone number digits)")
	fl.StringVar(&cfg.name, "name", "Ada", "your WhatsApp profile name")
	fl.StringVar(&cfg.say, "say", "", "send this one message, print the replies and exit")
	fl.DurationVar(&cfg.wait, "wait", 10*time.Second, "how long to wait for the shop to answer")
	if err := fl.Parse(args); err != nil {
		return config{}, err
	}
	if fl.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments %q: quote the -say message", fl.Args())
	}
	found, err := readStandins(*file)
	if err != nil {
		return config{}, err
	}
	cfg.webhookURL = cmp.Or(found.Webhook, "http://localhost:8888/webhook")
	if *base != "" {
		cfg.webhookURL = strings.TrimSuffix(*base, "/") + "/webhook"
	}
	cfg.graphURL = strings.TrimSuffix(cmp.Or(*graph, found.Graph), "/")
	cfg.stripeURL = strings.TrimSuffix(cmp.Or(*stripe, found.Stripe), "/")
	if cfg.graphURL == "" {
		return config{}, fmt.Errorf("no Graph API stand-in: start ./build.sh dev (it writes %s) or pass -graph", *file)
	}
	cfg.appSecret = cmp.Or(getenv("WHATSAPP_APP_SECRET"), devDefaults["WHATSAPP_APP_SECRET"])
	cfg.phoneNumberID = cmp.Or(getenv("WHATSAPP_PHONE_NUMBER_ID"), devDefaults["WHATSAPP_PHONE_NUMBER_ID"])
	return cfg, nil
}

// readStandins reads the file cmd/dev writes; a missing file is no error, as
// flags may name everything.
func readStandins(path string) (standinsFile, error) {
	var f standinsFile
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("read %s: %w", path, err)
	}
	return f, nil
}
