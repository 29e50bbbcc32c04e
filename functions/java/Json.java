import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON as the Python suite reads and writes it (json.loads, json.dumps with separators (",", ":")
 * and ensure_ascii): objects are LinkedHashMaps (keys in order, the last duplicate wins), arrays
 * ArrayLists, integers BigIntegers (exact at any size), other numbers Doubles that print the way
 * Python's repr prints a float ("100.0", "1e-05"), null is Java null.
 */
final class Json {
    private Json() {}

    /** A text that is not JSON. */
    static final class JsonException extends Exception {
        private static final long serialVersionUID = 1L;

        JsonException(String message) {
            super(message);
        }
    }

    private static final class Parser {
        private final String text;
        private int at;

        Parser(String text) {
            this.text = text;
        }

        JsonException fail(String what) {
            return new JsonException(what + " at char " + at);
        }

        char peek() {
            return at < text.length() ? text.charAt(at) : '\0';
        }

        void space() {
            while (at < text.length()) {
                char c = text.charAt(at);
                if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
                    return;
                }
                at++;
            }
        }

        static boolean digit(char c) {
            return c >= '0' && c <= '9';
        }

        Object number() throws JsonException {
            int start = at;
            if (peek() == '-') {
                at++;
            }
            if (peek() == '0') {
                at++;
            } else if (digit(peek())) {
                while (digit(peek())) {
                    at++;
                }
            } else {
                at = start;
                throw fail("Expecting value");
            }
            boolean integer = true;
            if (peek() == '.' && at + 1 < text.length() && digit(text.charAt(at + 1))) {
                integer = false;
                at++;
                while (digit(peek())) {
                    at++;
                }
            }
            if (peek() == 'e' || peek() == 'E') {
                int mark = at;
                at++;
                if (peek() == '+' || peek() == '-') {
                    at++;
                }
                if (digit(peek())) {
                    integer = false;
                    while (digit(peek())) {
                        at++;
                    }
                } else {
                    at = mark;
                }
            }
            String literal = text.substring(start, at);
            return integer ? new BigInteger(literal) : (Object) Double.parseDouble(literal);
        }

        String string() throws JsonException {
            at++;
            StringBuilder out = new StringBuilder();
            while (true) {
                if (at >= text.length()) {
                    throw fail("Unterminated string");
                }
                char c = text.charAt(at);
                if (c == '"') {
                    at++;
                    return out.toString();
                }
                if (c < 0x20) {
                    throw fail("Invalid control character");
                }
                if (c != '\\') {
                    out.append(c);
                    at++;
                    continue;
                }
                char e = at + 1 < text.length() ? text.charAt(at + 1) : '\0';
                int simple = "\"\\/bfnrt".indexOf(e);
                if (simple >= 0) {
                    out.append("\"\\/\b\f\n\r\t".charAt(simple));
                    at += 2;
                } else if (e == 'u' && at + 6 <= text.length()
                        && text.substring(at + 2, at + 6).matches("[0-9a-fA-F]{4}")) {
                    out.append((char) Integer.parseInt(text.substring(at + 2, at + 6), 16));
                    at += 6;
                } else {
                    throw fail("Invalid \\escape");
                }
            }
        }

        Object value(int depth) throws JsonException {
            if (depth > 1000) {
                throw fail("Nesting too deep");
            }
            space();
            char c = peek();
            if (c == '{') {
                at++;
                Map<String, Object> object = new LinkedHashMap<>();
                space();
                if (peek() == '}') {
                    at++;
                    return object;
                }
                while (true) {
                    space();
                    if (peek() != '"') {
                        throw fail("Expecting property name enclosed in double quotes");
                    }
                    String key = string();
                    space();
                    if (peek() != ':') {
                        throw fail("Expecting ':' delimiter");
                    }
                    at++;
                    object.put(key, value(depth + 1));
                    space();
                    if (peek() == ',') {
                        at++;
                    } else if (peek() == '}') {
                        at++;
                        return object;
                    } else {
                        throw fail("Expecting ',' delimiter");
                    }
                }
            }
            if (c == '[') {
                at++;
                List<Object> array = new ArrayList<>();
                space();
                if (peek() == ']') {
                    at++;
                    return array;
                }
                while (true) {
                    array.add(value(depth + 1));
                    space();
                    if (peek() == ',') {
                        at++;
                    } else if (peek() == ']') {
                        at++;
                        return array;
                    } else {
                        throw fail("Expecting ',' delimiter");
                    }
                }
            }
            if (c == '"') {
                return string();
            }
            if (text.startsWith("true", at)) {
                at += 4;
                return Boolean.TRUE;
            }
            if (text.startsWith("false", at)) {
                at += 5;
                return Boolean.FALSE;
            }
            if (text.startsWith("null", at)) {
                at += 4;
                return null;
            }
            return number();
        }
    }

    /** One JSON document. */
    static Object parse(String text) throws JsonException {
        Parser parser = new Parser(text);
        Object result = parser.value(0);
        parser.space();
        if (parser.at != text.length()) {
            throw parser.fail("Extra data");
        }
        return result;
    }

    /** Python's repr of a float: fixed notation from 1e-4 up to 1e16, else exponent notation. */
    static String floatRepr(double x) {
        if (Double.isNaN(x)) {
            return "nan";
        }
        if (Double.isInfinite(x)) {
            return x > 0 ? "inf" : "-inf";
        }
        String sign = (Double.doubleToRawLongBits(x) < 0) ? "-" : "";
        if (x == 0) {
            return sign + "0.0";
        }
        double magnitude = Math.abs(x);
        BigDecimal exact = new BigDecimal(magnitude);
        BigDecimal rounded = exact;
        for (int precision = 1; precision <= 17; precision++) {
            rounded = exact.round(new MathContext(precision, RoundingMode.HALF_EVEN));
            if (rounded.doubleValue() == magnitude) {
                break;
            }
        }
        rounded = rounded.stripTrailingZeros();
        String digits = rounded.unscaledValue().toString();
        int point = digits.length() - rounded.scale();
        if (point <= -4 || point > 16) {
            int exponent = point - 1;
            String mantissa = digits.length() > 1 ? digits.charAt(0) + "." + digits.substring(1) : digits;
            return String.format("%s%se%s%02d", sign, mantissa, exponent < 0 ? "-" : "+", Math.abs(exponent));
        }
        if (point <= 0) {
            return sign + "0." + zeros(-point) + digits;
        }
        if (point >= digits.length()) {
            return sign + digits + zeros(point - digits.length()) + ".0";
        }
        return sign + digits.substring(0, point) + "." + digits.substring(point);
    }

    private static String zeros(int count) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < count; i++) {
            out.append('0');
        }
        return out.toString();
    }

    private static void quote(StringBuilder out, String text) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"':
                    out.append("\\\"");
                    break;
                case '\\':
                    out.append("\\\\");
                    break;
                case '\n':
                    out.append("\\n");
                    break;
                case '\r':
                    out.append("\\r");
                    break;
                case '\t':
                    out.append("\\t");
                    break;
                case '\b':
                    out.append("\\b");
                    break;
                case '\f':
                    out.append("\\f");
                    break;
                default:
                    if (c >= 0x20 && c <= 0x7e) {
                        out.append(c);
                    } else {
                        out.append(String.format("\\u%04x", (int) c));
                    }
            }
        }
        out.append('"');
    }

    private static void write(StringBuilder out, Object value) {
        if (value == null) {
            out.append("null");
        } else if (value instanceof Boolean) {
            out.append((Boolean) value ? "true" : "false");
        } else if (value instanceof BigInteger || value instanceof Long || value instanceof Integer) {
            out.append(value);
        } else if (value instanceof Double) {
            Double d = (Double) value;
            if (d.isNaN()) {
                out.append("NaN");
            } else if (d.isInfinite()) {
                out.append(d > 0 ? "Infinity" : "-Infinity");
            } else {
                out.append(floatRepr(d));
            }
        } else if (value instanceof String) {
            quote(out, (String) value);
        } else if (value instanceof List<?>) {
            List<?> list = (List<?>) value;
            out.append('[');
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                write(out, list.get(i));
            }
            out.append(']');
        } else if (value instanceof Map<?, ?>) {
            Map<?, ?> map = (Map<?, ?>) value;
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                if (!first) {
                    out.append(',');
                }
                first = false;
                quote(out, String.valueOf(entry.getKey()));
                out.append(':');
                write(out, entry.getValue());
            }
            out.append('}');
        } else {
            throw new IllegalArgumentException("not a JSON value: " + value.getClass().getName());
        }
    }

    /** value compactly, non-ASCII escaped, as Python's json.dumps writes it. */
    static String dump(Object value) {
        StringBuilder out = new StringBuilder();
        write(out, value);
        return out.toString();
    }

    /** Python's type name for a parsed value, for messages ("got list"). */
    static String typeName(Object value) {
        if (value == null) {
            return "NoneType";
        }
        if (value instanceof Boolean) {
            return "bool";
        }
        if (value instanceof BigInteger || value instanceof Long || value instanceof Integer) {
            return "int";
        }
        if (value instanceof Double) {
            return "float";
        }
        if (value instanceof String) {
            return "str";
        }
        if (value instanceof List) {
            return "list";
        }
        return "dict";
    }
}
