import java.math.BigDecimal;
import java.math.BigInteger;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;

/**
 * Per-instance state, parameter parsing and the envelope, as functions/_runtime.py and
 * functions/_params.py define them: {"result": ..., "meta": {...}} with status 200, or
 * {"error": "message", "meta": {...}} with 400 (bad parameter) or 500 (failure).
 */
final class Envelope {
    private Envelope() {}

    /** The suite's version (functions/_runtime.py VERSION) and this runtime's language. */
    static final String VERSION = "1.1.0";
    static final String LANGUAGE = "java";

    static final String INSTANCE_ID;
    static final long INSTANCE_STARTED_NS;
    private static final AtomicBoolean COLD_PENDING = new AtomicBoolean(true);

    static {
        byte[] raw = new byte[8];
        new SecureRandom().nextBytes(raw);
        StringBuilder hex = new StringBuilder();
        for (byte b : raw) {
            hex.append(String.format("%02x", b & 0xff));
        }
        INSTANCE_ID = hex.toString();
        Instant now = Instant.now();
        INSTANCE_STARTED_NS = now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    /** A missing, mistyped or out-of-range parameter (400). */
    static final class ParamError extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ParamError(String message) {
            super(message);
        }
    }

    /** One function of the suite. */
    interface Handler {
        Object run(Map<String, Object> params) throws Exception;
    }

    /** A response document and its HTTP status. */
    static final class Outcome {
        private final int status;
        private final Map<String, Object> document;

        Outcome(int status, Map<String, Object> document) {
            this.status = status;
            this.document = document;
        }

        int status() {
            return status;
        }

        Map<String, Object> document() {
            return document;
        }
    }

    /** Python's repr of a bad value, as _params._show quotes it (60 characters at most). */
    static String show(Object value) {
        String text;
        if (value instanceof String) {
            String s = (String) value;
            char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
            StringBuilder out = new StringBuilder().append(quote);
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '\\') {
                    out.append("\\\\");
                } else if (c == '\n') {
                    out.append("\\n");
                } else if (c == '\r') {
                    out.append("\\r");
                } else if (c == '\t') {
                    out.append("\\t");
                } else if (c < 0x20 || c == 0x7f) {
                    out.append(String.format("\\x%02x", (int) c));
                } else if (c == quote) {
                    out.append('\\').append(c);
                } else {
                    out.append(c);
                }
            }
            text = out.append(quote).toString();
        } else if (value instanceof Double) {
            text = Json.floatRepr((Double) value);
        } else if (value instanceof BigInteger || value instanceof Long || value instanceof Integer) {
            text = value.toString();
        } else if (value instanceof Boolean) {
            text = (Boolean) value ? "True" : "False";
        } else {
            text = Json.typeName(value);
        }
        return text.length() <= 60 ? text : text.substring(0, 57) + "...";
    }

    private static final Pattern INTEGER = Pattern.compile("[+-]?[0-9]+(_[0-9]+)*");
    private static final Pattern FLOAT = Pattern.compile(
            "[+-]?([0-9]+(_[0-9]+)*(\\.([0-9]+(_[0-9]+)*)?)?|\\.[0-9]+(_[0-9]+)*)([eE][+-]?[0-9]+(_[0-9]+)*)?");
    private static final Pattern SPECIAL = Pattern.compile("[+-]?(inf|infinity|nan)", Pattern.CASE_INSENSITIVE);

    /** text without the whitespace (Character.isWhitespace) at either end, as String.strip. */
    static String strip(String text) {
        int start = 0;
        int end = text.length();
        while (start < end && Character.isWhitespace(text.codePointAt(start))) {
            start += Character.charCount(text.codePointAt(start));
        }
        while (end > start && Character.isWhitespace(text.codePointBefore(end))) {
            end -= Character.charCount(text.codePointBefore(end));
        }
        return text.substring(start, end);
    }

    /** params[name] as an integer in [low, high], or fallback when absent or null. */
    static long intParam(Map<String, Object> params, String name, long fallback, long low, long high) {
        Object value = params.get(name);
        BigInteger number;
        if (value == null) {
            return fallback;
        } else if (value instanceof Boolean) {
            throw new ParamError(name + " must be an integer, got a boolean");
        } else if (value instanceof BigInteger) {
            number = (BigInteger) value;
        } else if (value instanceof Long || value instanceof Integer) {
            number = BigInteger.valueOf(((Number) value).longValue());
        } else if (value instanceof Double) {
            Double d = (Double) value;
            if (d.isNaN() || d.isInfinite() || d != Math.floor(d)) {
                throw new ParamError(name + " must be an integer, got float");
            }
            number = new BigDecimal(d).toBigInteger();
        } else if (value instanceof String) {
            String s = (String) value;
            String text = strip(s);
            if (!INTEGER.matcher(text).matches()) {
                throw new ParamError(name + " must be an integer, got " + show(s));
            }
            number = new BigInteger(text.replace("_", ""));
        } else {
            throw new ParamError(name + " must be an integer, got " + Json.typeName(value));
        }
        if (number.compareTo(BigInteger.valueOf(low)) < 0 || number.compareTo(BigInteger.valueOf(high)) > 0) {
            throw new ParamError(name + " must be between " + low + " and " + high + ", got " + number);
        }
        return number.longValueExact();
    }

    /** Python's "{:g}" of the bounds the suite uses (whole numbers below 1e16). */
    private static String formatG(double x) {
        return x == Math.floor(x) && Math.abs(x) < 1e16 ? Long.toString((long) x) : Json.floatRepr(x);
    }

    /** params[name] as a finite float in [low, high], or fallback when absent or null. */
    static double floatParam(Map<String, Object> params, String name, double fallback, double low, double high) {
        Object value = params.get(name);
        double number;
        if (value == null) {
            return fallback;
        } else if (value instanceof Boolean) {
            throw new ParamError(name + " must be a number, got a boolean");
        } else if (value instanceof BigInteger) {
            number = new BigDecimal((BigInteger) value).doubleValue();
        } else if (value instanceof Number) {
            number = ((Number) value).doubleValue();
        } else if (value instanceof String) {
            String s = (String) value;
            String text = strip(s);
            if (SPECIAL.matcher(text).matches()) {
                double magnitude = text.toLowerCase().contains("nan") ? Double.NaN : Double.POSITIVE_INFINITY;
                number = text.startsWith("-") ? -magnitude : magnitude;
            } else if (FLOAT.matcher(text).matches()) {
                number = Double.parseDouble(text.replace("_", ""));
            } else {
                throw new ParamError(name + " must be a number, got " + show(s));
            }
        } else {
            throw new ParamError(name + " must be a number, got " + Json.typeName(value));
        }
        if (Double.isNaN(number) || Double.isInfinite(number) || number < low || number > high) {
            throw new ParamError(name + " must be between " + formatG(low) + " and " + formatG(high)
                    + ", got " + show(value));
        }
        return number;
    }

    /** round(x, 3). */
    static double round3(double x) {
        return Math.round(x * 1000) / 1000.0;
    }

    /** Runs handler(params) as one invocation of this instance and wraps its result with meta. */
    static Outcome invoke(String name, Handler handler, Object params, String adapter) {
        boolean cold = COLD_PENDING.getAndSet(false);
        long start = System.nanoTime();
        int status = 200;
        Map<String, Object> body = new LinkedHashMap<>();
        try {
            if (!(params instanceof Map<?, ?>)) {
                throw new ParamError("parameters must be a JSON object, got " + Json.typeName(params));
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> object = (Map<String, Object>) params;
            body.put("result", handler.run(object));
        } catch (ParamError error) {
            status = 400;
            body.put("error", error.getMessage());
        } catch (Exception error) {
            error.printStackTrace();
            status = 500;
            body.put("error", "internal error: " + error.getClass().getSimpleName() + ": " + error.getMessage());
        }
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("function", name);
        meta.put("instance", INSTANCE_ID);
        meta.put("cold", cold);
        meta.put("instance_started_ns", INSTANCE_STARTED_NS);
        meta.put("handler_ms", round3((System.nanoTime() - start) / 1e6));
        meta.put("version", VERSION);
        meta.put("adapter", adapter);
        meta.put("language", LANGUAGE);
        body.put("meta", meta);
        return new Outcome(status, body);
    }

    static Map<String, Object> document(Object... pairs) {
        Map<String, Object> document = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            document.put((String) pairs[i], pairs[i + 1]);
        }
        return document;
    }

    static final List<String> FUNCTION_NAMES = Collections.unmodifiableList(Arrays.asList("echo", "sleep", "matrix"));
}
