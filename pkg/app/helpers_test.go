package app

import (
	"fmt"
	"time"
)

const minute = time.Minute

func timeNow() time.Time { return time.Now() }

func fmtSprintf(format, side string, i int) string {
	return fmt.Sprintf(format, fmt.Sprintf("1555%s%d", map[string]string{"inline": "1", "proxy": "2"}[side], i))
}
