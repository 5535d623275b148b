package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/wa-shop/shop/pkg/app"
	"github.com/wa-shop/shop/pkg/catalog"
	"github.com/wa-shop/shop/pkg/devstack"
	"github.com/wa-shop/shop/pkg/inventory"
	"github.com/wa-shop/shop/pkg/postgres"
	"github.com/wa-shop/shop/pkg/schema"
	"github.com/wa-shop/shop/pkg/standin/graph"
	"github.com/wa-shop/shop/pkg/standin/stripe"
)

// The storm's own settings: local, harmless values it signs and checks with.
const (
	appSecret     = "storm-app-secret"
	webhookSecret = "whsec_storm"
	adminKey      = "storm-admin-key"
	phoneNumberID = "100000000000009"
	catalogID     = "storm-catalog"
)

// stack is the shop under test: private Postgres and Redis, the stand-ins
// and every function, each on its own loopback port, in this process. The
// senders reach them only over HTTP, as Meta and Stripe would.
type stack struct {
	dev       *devstack.Stack
	db        *pgxpool.Pool // the storm's own connections, for setup and checks
	rdb       *redis.Client
	shopURL   string
	graphURL  string
	stripeURL string
	logFile   *os.File
	servers   []*http.Server
}

func startStack(ctx context.Context, dir string) (*stack, error) {
	dev, err := devstack.Up(dir)
	if err != nil {
		return nil, fmt.Errorf("private Postgres and Redis: %w", err)
	}
	st := &stack{dev: dev}
	if err := st.start(ctx, dir); err != nil {
		st.close()
		return nil, err
	}
	return st, nil
}

func (st *stack) start(ctx context.Context, dir string) error {
	var err error
	// The shop logs warnings and errors to a file: retries under faults are
	// expected, and the summary is what the reader needs on screen.
	if st.logFile, err = os.Create(filepath.Join(dir, "shop.log")); err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(st.logFile, &slog.HandlerOptions{Level: slog.LevelWarn}))
	shop, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	st.shopURL = "http://" + shop.Addr().String()
	st.graphURL, err = st.serve(graph.New(graph.Options{AccessToken: "storm-token", PhoneNumberID: phoneNumberID}), nil)
	if err != nil {
		return err
	}
	st.stripeURL, err = st.serve(stripe.New(stripe.Options{SecretKey: "sk_test_storm",
		WebhookURL: st.shopURL + "/.netlify/functions/payment-callback", WebhookSecret: webhookSecret}), nil)
	if err != nil {
		return err
	}
	env := map[string]string{
		"DATABASE_URL": st.dev.Postgres.URL(), "REDIS_URL": st.dev.Redis.URL(),
		"WHATSAPP_APP_SECRET": appSecret, "VERIFY_TOKEN": "storm-verify", "WHATSAPP_PHONE_NUMBER_ID": phoneNumberID,
		"WHATSAPP_ACCESS_TOKEN": "storm-token", "WHATSAPP_API_BASE_URL": st.graphURL, "WHATSAPP_CATALOG_ID": catalogID,
		"STRIPE_SECRET": "sk_test_storm", "STRIPE_API_BASE_URL": st.stripeURL, "STRIPE_WEBHOOK_SECRET": webhookSecret,
		"ORDER_API_KEY": "storm-order-key", "ADMIN_API_KEY": adminKey, "BASE_URL": st.shopURL,
	}
	for k, v := range env {
		if err := os.Setenv(k, v); err != nil {
			return err
		}
	}
	if st.db, err = openPool(ctx, st.dev.Postgres.URL()); err != nil {
		return err
	}
	if _, err := schema.Migrate(ctx, st.db, log); err != nil {
		return err
	}
	redisOpts, err := redis.ParseURL(st.dev.Redis.URL())
	if err != nil {
		return err
	}
	st.rdb = redis.NewClient(redisOpts)
	routes, err := app.Routes(ctx, log, false)
	if err != nil {
		return err
	}
	_, err = st.serve(routes, shop)
	return err
}

// openPool opens the storm's own pool, wide enough for its customers'
// lookups; the shop keeps its own small pools.
func openPool(ctx context.Context, url string) (*pgxpool.Pool, error) {
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return postgres.Open(ctx, url+sep+"pool_max_conns=16")
}

// serve answers h on l, or on a new loopback port when l is nil.
func (st *stack) serve(h http.Handler, l net.Listener) (string, error) {
	if l == nil {
		var err error
		if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return "", err
		}
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	st.servers = append(st.servers, srv)
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String(), nil
}

func (st *stack) close() {
	for _, srv := range st.servers {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = srv.Shutdown(ctx)
		cancel()
	}
	if st.db != nil {
		st.db.Close()
	}
	if st.rdb != nil {
		_ = st.rdb.Close()
	}
	if st.logFile != nil {
		_ = st.logFile.Close()
	}
	_ = st.dev.Down()
}

// reset empties the shop and stocks the storm's catalogue: skus SKUs
// sharing units between them, availability rebuilt in Redis.
func (st *stack) reset(ctx context.Context, units, skus int) ([]string, map[string]int, error) {
	if _, err := st.db.Exec(ctx, `TRUNCATE outbox, processed_events, processed_messages, reservations, orders,
		customers, variants, products CASCADE`); err != nil {
		return nil, nil, err
	}
	if err := st.rdb.FlushDB(ctx).Err(); err != nil {
		return nil, nil, err
	}
	for _, url := range []string{st.graphURL, st.stripeURL} {
		if err := control(ctx, url+"/_control/reset", nil, nil); err != nil {
			return nil, nil, err
		}
	}
	var feed strings.Builder
	feed.WriteString("id,title,description,availability,condition,price,link,image_link,brand,item_group_id,size,quantity_to_sell_on_facebook\n")
	names := make([]string, skus)
	stock := map[string]int{}
	for i := range skus {
		names[i] = fmt.Sprintf("STORM-%d", i+1)
		stock[names[i]] = units / skus
		if i < units%skus {
			stock[names[i]]++
		}
		fmt.Fprintf(&feed, "%s,Storm Tee,Limited run,in stock,new,%d.00 USD,https://shop.example/storm,https://shop.example/storm.jpg,Storm,STORM,%d,%d\n",
			names[i], 20+i, i+1, stock[names[i]])
	}
	products, err := catalog.Parse(strings.NewReader(feed.String()))
	if err != nil {
		return nil, nil, err
	}
	if _, err := catalog.Import(ctx, st.db, products); err != nil {
		return nil, nil, err
	}
	if _, err := inventory.Rebuild(ctx, st.db, st.rdb); err != nil {
		return nil, nil, err
	}
	return names, stock, nil
}

// restartRedis restarts Redis empty, as a crash would; restartPostgres
// restarts Postgres. The shop finds out on its own.
func (st *stack) restartRedis() error    { return st.dev.Redis.Restart() }
func (st *stack) restartPostgres() error { return st.dev.Postgres.Restart() }
