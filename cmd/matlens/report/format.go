package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// usd formats money: cents from a cent up, otherwise enough decimals to
// show the figure (per-asset storage costs are often fractions of a cent).
func usd(v float64) string {
	switch a := math.Abs(v); {
	case v == 0:
		return "$0"
	case a >= 0.01:
		return "$" + thousands(strconv.FormatFloat(v, 'f', 2, 64))
	case a >= 1e-6:
		return "$" + strings.TrimRight(strconv.FormatFloat(v, 'f', 6, 64), "0")
	}
	return "$" + strconv.FormatFloat(v, 'g', 2, 64)
}

// num formats a plain number for people.
func num(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return ""
	case v == math.Trunc(v) && a < 1e15:
		return thousands(strconv.FormatFloat(v, 'f', 0, 64))
	case a >= 100:
		return thousands(strconv.FormatFloat(v, 'f', 1, 64))
	case a >= 0.01:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 2, 64)
}

// thousands puts commas into the integer part of a formatted number.
func thousands(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if len(intPart) <= 3 {
		return sign + s
	}
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		return sign + b.String() + "." + frac
	}
	return sign + b.String()
}

// bytesIEC formats a byte count in KiB..TiB.
func bytesIEC(v float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	i := 0
	for math.Abs(v) >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", v)
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// cell formats a value of the named column for the text and HTML tables.
func cell(col string, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04")
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return thousands(strconv.FormatInt(x, 10))
	case float64:
		switch {
		case strings.Contains(col, "usd"):
			return usd(x)
		case col == "success_rate":
			return fmt.Sprintf("%.1f%%", 100*x)
		case strings.HasSuffix(col, "_gb"):
			return strconv.FormatFloat(x, 'f', 2, 64)
		case strings.HasSuffix(col, "_months"):
			return strconv.FormatFloat(x, 'f', 1, 64)
		}
		return num(x)
	}
	return fmt.Sprint(v)
}

// capacityValue formats a capacity_plan value with its unit.
func capacityValue(v any, unit string) string {
	x, ok := v.(float64)
	if !ok {
		return cell("", v)
	}
	switch unit {
	case "USD", "USD/GB", "USD/hour":
		return usd(x) + strings.TrimPrefix(unit, "USD")
	case "percent":
		return fmt.Sprintf("%.1f%%", x)
	case "GB", "MB":
		return strconv.FormatFloat(x, 'f', 2, 64) + " " + unit
	}
	return strings.TrimSpace(num(x) + " " + unit)
}
