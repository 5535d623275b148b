package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wa-shop/shop/pkg/standin/graph"
)

const (
	// pollInterval is how often the Graph stand-in is asked for new replies.
	pollInterval = 100 * time.Millisecond
	// settle is how long the shop must stay quiet after a reply before the
	// chat stops waiting: one message often gets several replies.
	settle = 600 * time.Millisecond
)

var errQuit = errors.New("quit")

const help = `Type a message and press Enter to send it.
  1, 2, …       answer the last list or buttons
  /pay [link]   pay the last checkout link (or this one) through the Stripe stand-in
  Enter alone   show messages that arrived since
  /quit         leave`

// chat is one customer's conversation with the shop.
type chat struct {
	cfg     config
	out     io.Writer
	client  *http.Client
	seen    map[string]bool // wamids of replies already shown
	choices []choice        // the last reply's numbered options
	replyTo string          // the wamid of that reply, for the answer's context
	payURL  string          // the last checkout link the shop sent
}

func newChat(cfg config, out io.Writer) *chat {
	return &chat{cfg: cfg, out: out, client: &http.Client{Timeout: 5 * time.Second}, seen: map[string]bool{}}
}

// loop reads lines until /quit, the end of stdin or ctx ends. Errors are
// printed, not returned: the shop may be restarting, and the chat can wait.
func (c *chat) loop(ctx context.Context, stdin io.Reader) error {
	fmt.Fprintf(c.out, "You are %s (%s), talking to %s. /help lists commands.\n", c.cfg.name, c.cfg.waID, c.cfg.webhookURL)
	lines, done := make(chan string), make(chan struct{})
	defer close(done)
	go func() { // a read cannot be interrupted, so it must not hold up Ctrl-C
		defer close(lines)
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-done:
				return
			}
		}
	}()
	for {
		fmt.Fprint(c.out, "> ")
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			return nil
		case line, ok = <-lines:
		}
		if !ok {
			fmt.Fprintln(c.out)
			return nil
		}
		err := c.handle(ctx, strings.TrimSpace(line))
		switch {
		case errors.Is(err, errQuit) || ctx.Err() != nil:
			return nil
		case err != nil:
			fmt.Fprintln(c.out, "!", err)
		}
	}
}

func (c *chat) handle(ctx context.Context, line string) error {
	switch {
	case line == "":
		_, err := c.poll(ctx)
		return err
	case line == "/quit":
		return errQuit
	case line == "/help":
		fmt.Fprintln(c.out, help)
		return nil
	case line == "/pay" || strings.HasPrefix(line, "/pay "):
		return c.pay(ctx, strings.TrimSpace(strings.TrimPrefix(line, "/pay")))
	case strings.HasPrefix(line, "/"):
		fmt.Fprintf(c.out, "unknown command %s\n%s\n", line, help)
		return nil
	}
	if n, err := strconv.Atoi(line); err == nil && n >= 1 && n <= len(c.choices) {
		ch := c.choices[n-1]
		fmt.Fprintf(c.out, "(you chose %q)\n", ch.Title)
		return c.send(ctx, ch.message(c.replyTo))
	}
	return c.send(ctx, textMessage(line))
}

// sayOnce is -say: one message, its replies, and an error if none came.
func (c *chat) sayOnce(ctx context.Context, text string) error {
	if err := c.post(ctx, textMessage(text)); err != nil {
		return err
	}
	n, err := c.waitReplies(ctx)
	if err == nil && n == 0 {
		err = fmt.Errorf("no reply within %s", c.cfg.wait)
	}
	return err
}

// send posts m and shows the replies to it.
func (c *chat) send(ctx context.Context, m inbound) error {
	if err := c.post(ctx, m); err != nil {
		return err
	}
	return c.await(ctx)
}

func (c *chat) await(ctx context.Context) error {
	n, err := c.waitReplies(ctx)
	if err == nil && n == 0 {
		fmt.Fprintf(c.out, "(no reply within %s; Enter checks again)\n", c.cfg.wait)
	}
	return err
}

// waitReplies shows replies until the shop has answered and gone quiet for
// settle, or the wait is over, and says how many came.
func (c *chat) waitReplies(ctx context.Context) (int, error) {
	deadline := time.Now().Add(c.cfg.wait)
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	var got int
	var quietFrom time.Time
	for {
		n, err := c.poll(ctx)
		if err != nil {
			return got, err
		}
		now := time.Now()
		if n > 0 {
			got, quietFrom = got+n, now
		}
		if (got > 0 && now.Sub(quietFrom) >= settle) || now.After(deadline) {
			return got, nil
		}
		select {
		case <-ctx.Done():
			return got, ctx.Err()
		case <-tick.C:
		}
	}
}

// catchUp marks what the stand-in already holds for this customer as seen.
func (c *chat) catchUp(ctx context.Context) error {
	msgs, err := c.fetch(ctx)
	for _, m := range msgs {
		c.seen[m.ID] = true
	}
	return err
}

// poll shows the replies not shown yet and says how many there were.
func (c *chat) poll(ctx context.Context) (int, error) {
	msgs, err := c.fetch(ctx)
	n := 0
	for _, m := range msgs {
		if c.seen[m.ID] {
			continue
		}
		c.seen[m.ID], n = true, n+1
		v := render(m.Body)
		c.show(v)
		c.choices, c.replyTo = v.Choices, m.ID
		if v.PayURL != "" {
			c.payURL = v.PayURL
		}
	}
	return n, err
}

// fetch reads the sends to this customer from the Graph stand-in.
func (c *chat) fetch(ctx context.Context) ([]graph.Message, error) {
	u := c.cfg.graphURL + "/_control/messages?to=" + url.QueryEscape(c.cfg.waID)
	var msgs []graph.Message
	if err := c.call(ctx, http.MethodGet, u, &msgs); err != nil {
		return nil, fmt.Errorf("read replies from the Graph stand-in: %w", err)
	}
	return msgs, nil
}

// show prints a reply under the shop's name, indenting its later lines.
func (c *chat) show(v view) {
	lines := strings.Split(v.Text, "\n")
	for i, l := range lines[1:] {
		if l != "" {
			lines[i+1] = "      " + l
		}
	}
	fmt.Fprintf(c.out, "shop: %s\n", strings.Join(lines, "\n"))
	if len(v.Choices) > 0 {
		fmt.Fprintln(c.out, "      (reply with a number to choose)")
	}
}

// call does a control API request and decodes the JSON answer into v.
func (c *chat) call(ctx context.Context, method, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s %s", method, u, resp.Status, strings.TrimSpace(string(body)))
	}
	return json.Unmarshal(body, v)
}
