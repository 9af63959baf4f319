package loginpage

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Chainlit's login_page_image_filter and login_page_image_dark_filter are
// Tailwind classes ("brightness-50 grayscale", "brightness-[0.2]"); this
// page has no Tailwind, so cssFilter turns them into a CSS filter value.
// CSS filter functions ("brightness(0.5) grayscale(1)") are taken as they
// are. Anything else is refused, so nothing but a filter reaches the
// page's stylesheet.

// cssFilterFunc is one CSS filter function with a plain numeric argument.
var cssFilterFunc = regexp.MustCompile(`^(blur|brightness|contrast|grayscale|hue-rotate|invert|opacity|saturate|sepia)\((-?[0-9]*\.?[0-9]+(?:%|deg|turn|rad|px|rem|em)?)\)$`)

// tailwindFilter is a Tailwind filter class: name, then an optional
// -value or -[arbitrary value].
var tailwindFilter = regexp.MustCompile(`^(-?)(blur|brightness|contrast|grayscale|hue-rotate|invert|opacity|saturate|sepia)(?:-([0-9]+|none|sm|md|lg|xl|2xl|3xl)|-\[(-?[0-9]*\.?[0-9]+(?:%|deg|turn|rad|px|rem|em)?)\])?$`)

// tailwindBlur is Tailwind's blur scale.
var tailwindBlur = map[string]string{"": "8px", "none": "0", "sm": "4px", "md": "12px", "lg": "16px", "xl": "24px", "2xl": "40px", "3xl": "64px"}

// cssFilter turns a filter setting into a CSS filter value; "" stays "".
func cssFilter(setting string) (string, error) {
	var out []string
	for _, word := range strings.Fields(setting) {
		if cssFilterFunc.MatchString(word) {
			out = append(out, word)
			continue
		}
		f, err := tailwindToCSS(word)
		if err != nil {
			return "", err
		}
		out = append(out, f)
	}
	return strings.Join(out, " "), nil
}

// tailwindToCSS translates one Tailwind filter class.
func tailwindToCSS(class string) (string, error) {
	m := tailwindFilter.FindStringSubmatch(class)
	if m == nil {
		return "", fmt.Errorf("%q is neither a CSS filter function such as brightness(0.5) nor a Tailwind filter class such as brightness-50", class)
	}
	negative, name, scale, arbitrary := m[1] == "-", m[2], m[3], m[4]
	if negative && name != "hue-rotate" {
		return "", fmt.Errorf("%q: only hue-rotate takes a minus sign", class)
	}
	if arbitrary != "" {
		if negative {
			arbitrary = "-" + arbitrary
		}
		return name + "(" + arbitrary + ")", nil
	}
	switch name {
	case "blur":
		if v, ok := tailwindBlur[scale]; ok {
			return "blur(" + v + ")", nil
		}
	case "grayscale", "invert", "sepia":
		// grayscale is grayscale(100%), grayscale-0 is grayscale(0).
		switch scale {
		case "":
			return name + "(1)", nil
		case "0":
			return name + "(0)", nil
		}
	case "hue-rotate":
		if n, err := strconv.Atoi(scale); err == nil {
			if negative {
				n = -n
			}
			return "hue-rotate(" + strconv.Itoa(n) + "deg)", nil
		}
	default: // brightness, contrast, opacity, saturate: a percentage
		if n, err := strconv.Atoi(scale); err == nil {
			return name + "(" + strconv.Itoa(n) + "%)", nil
		}
	}
	return "", fmt.Errorf("%q is not a Tailwind filter class this page knows", class)
}
