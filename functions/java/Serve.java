import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The suite's HTTP server in Java, the same HTTP mode as functions/serve.py:
 *
 * <pre>
 *     javac -d OUT functions/java/*.java && FUNCTION=echo PORT=8080 java -cp OUT Serve
 * </pre>
 *
 * <p>GET, POST, PUT, PATCH or DELETE on any path outside /_/ runs the function with the JSON object
 * in the body (empty body: {}) over the query parameters; /_/health and /_/ready answer without
 * running it (probes never take the cold flag). JSON responses with Content-Length, X-Call-Id
 * echoed, keep-alive (idle connections close after 120 s), 413 above 16 MiB; exchanges run on a
 * cached thread pool, so a blocking sleep never holds up the others. SIGTERM or SIGINT stops
 * accepting, lets requests in flight finish (up to SHUTDOWN_GRACE_S, 30 s) and exits 0.
 * Settings: FUNCTION, HOST (0.0.0.0), PORT (8080), SHUTDOWN_GRACE_S.
 */
public final class Serve {
    static final int MAX_BODY = 16 * 1024 * 1024;
    static final Set<String> METHODS = Set.of("GET", "POST", "PUT", "PATCH", "DELETE");

    private final String name;
    private final Envelope.Handler handler;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Object idle = new Object();
    private volatile boolean draining;

    private Serve(String name, Envelope.Handler handler) {
        this.name = name;
        this.handler = handler;
    }

    private static void fail(String message) {
        System.err.println("functions/java: " + message);
        System.exit(2);
    }

    /** Python's urllib.parse.unquote_plus, malformed UTF-8 replaced. */
    static String unquotePlus(String text) {
        String plain = text.replace('+', ' ');
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < plain.length(); i++) {
            char c = plain.charAt(i);
            if (c == '%' && i + 2 < plain.length() && plain.substring(i + 1, i + 3).matches("[0-9a-fA-F]{2}")) {
                out.write(Integer.parseInt(plain.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                byte[] bytes = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                out.write(bytes, 0, bytes.length);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** The JSON body over the query parameters (a repeated key gives a list). */
    @SuppressWarnings("unchecked")
    static Object requestParams(String query, byte[] body) throws Json.JsonException {
        Map<String, Object> params = new LinkedHashMap<>();
        for (String piece : query == null ? new String[0] : query.split("&", -1)) {
            if (piece.isEmpty()) {
                continue;
            }
            int cut = piece.indexOf('=');
            String key = unquotePlus(cut < 0 ? piece : piece.substring(0, cut));
            String value = unquotePlus(cut < 0 ? "" : piece.substring(cut + 1));
            Object seen = params.get(key);
            if (seen == null) {
                params.put(key, value);
            } else if (seen instanceof List<?> list) {
                ((List<Object>) list).add(value);
            } else {
                params.put(key, new ArrayList<>(List.of(seen, value)));
            }
        }
        boolean blank = true;
        for (byte b : body) {
            if (b != ' ' && (b < 0x09 || b > 0x0d)) {
                blank = false;
                break;
            }
        }
        if (blank) {
            return params;
        }
        int start = body.length >= 3 && body[0] == (byte) 0xef && body[1] == (byte) 0xbb && body[2] == (byte) 0xbf ? 3 : 0;
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(body, start, body.length - start))
                    .toString();
        } catch (CharacterCodingException error) {
            throw new Json.JsonException("the body is not UTF-8");
        }
        Object document = Json.parse(text);
        if (!(document instanceof Map<?, ?> object)) {
            return document;
        }
        params.putAll((Map<String, Object>) object);
        return params;
    }

    /** The body, or null when it is larger than MAX_BODY. */
    private static byte[] readBody(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[65536];
        int total = 0;
        for (int read = in.read(buffer); read >= 0; read = in.read(buffer)) {
            total += read;
            if (total > MAX_BODY) {
                return null;
            }
            out.write(buffer, 0, read);
        }
        return out.toByteArray();
    }

    private void send(HttpExchange exchange, int status, Object document, boolean close) throws IOException {
        byte[] body = Json.dump(document).getBytes(StandardCharsets.US_ASCII);
        var headers = exchange.getResponseHeaders();
        headers.set("Content-Type", "application/json");
        String callId = exchange.getRequestHeaders().getFirst("X-Call-Id");
        if (callId != null && !callId.isEmpty() && callId.chars().allMatch(c -> c >= 0x20 && c <= 0x7e)) {
            headers.set("X-Call-Id", callId);
        }
        if (close || draining) {
            headers.set("Connection", "close");
        }
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        inFlight.incrementAndGet();
        try {
            dispatch(exchange);
        } finally {
            exchange.close();
            if (inFlight.decrementAndGet() == 0) {
                synchronized (idle) {
                    idle.notifyAll();
                }
            }
        }
    }

    private void dispatch(HttpExchange exchange) throws IOException {
        String method = exchange.getRequestMethod();
        if (!METHODS.contains(method)) {
            send(exchange, 501, Envelope.document("error", "unsupported method " + method), false);
            return;
        }
        Map<String, Object> tooLarge = Envelope.document("error", "bodies are up to " + MAX_BODY + " B");
        String declared = exchange.getRequestHeaders().getFirst("Content-Length");
        if (declared != null && declared.trim().matches("[0-9]+")
                && new java.math.BigInteger(declared.trim()).compareTo(java.math.BigInteger.valueOf(MAX_BODY)) > 0) {
            send(exchange, 413, tooLarge, true);
            return;
        }
        byte[] body = readBody(exchange.getRequestBody());
        if (body == null) {
            send(exchange, 413, tooLarge, true);
            return;
        }
        URI uri = exchange.getRequestURI();
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        if (path.startsWith("/_/")) {
            probe(exchange, path);
            return;
        }
        Object params;
        try {
            params = requestParams(uri.getRawQuery(), body);
        } catch (Json.JsonException error) {
            send(exchange, 400, Envelope.document("error", "the body is not valid JSON: " + error.getMessage()), false);
            return;
        }
        Envelope.Outcome outcome = Envelope.invoke(name, handler, params, "http");
        send(exchange, outcome.status(), outcome.document(), false);
    }

    private void probe(HttpExchange exchange, String path) throws IOException {
        if (!path.equals("/_/health") && !path.equals("/_/ready")) {
            send(exchange, 404, Envelope.document("error", "no such path " + path), false);
        } else if (path.equals("/_/ready") && draining) {
            send(exchange, 503, Envelope.document("status", "draining"), false);
        } else {
            send(exchange, 200, Envelope.document("status", "ok", "function", name, "instance", Envelope.INSTANCE_ID), false);
        }
    }

    /** Waits until no request is in flight; false if graceMs ran out first. */
    private boolean drain(long graceMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + graceMs;
        synchronized (idle) {
            for (long left = graceMs; inFlight.get() > 0; left = deadline - System.currentTimeMillis()) {
                if (left <= 0) {
                    return false;
                }
                idle.wait(left);
            }
        }
        return true;
    }

    private static String env(String key, String fallback) {
        String value = System.getenv(key);
        return value == null || value.isEmpty() ? fallback : value;
    }

    public static void main(String[] args) {
        String name = System.getenv("FUNCTION");
        if (name == null || name.isEmpty()) {
            fail("FUNCTION is not set; one of: " + String.join(", ", Envelope.FUNCTION_NAMES));
        }
        Envelope.Handler handler = Functions.byName(name);
        if (handler == null) {
            fail("FUNCTION: unknown function '" + name + "'; known: " + String.join(", ", Envelope.FUNCTION_NAMES));
        }
        String host = env("HOST", "0.0.0.0");
        int port = -1;
        double graceS = -1;
        try {
            port = Integer.parseInt(env("PORT", "8080").trim());
            graceS = Double.parseDouble(env("SHUTDOWN_GRACE_S", "30").trim());
        } catch (NumberFormatException error) {
            port = -1;
        }
        if (port < 0 || port > 65535 || !(graceS >= 0) || Double.isInfinite(graceS)) {
            fail("bad PORT or SHUTDOWN_GRACE_S: " + System.getenv("PORT") + ", " + System.getenv("SHUTDOWN_GRACE_S"));
        }
        // Read once by the JDK's server configuration: idle keep-alive connections close after
        // 120 s (later than HAProxy's and Go's idle timeouts), no Nagle delay, and a request
        // whose body was not read to its end (refused with 413 or 501) closes its connection
        // instead of waiting to drain a body that may never come.
        System.setProperty("sun.net.httpserver.idleInterval", "120");
        System.setProperty("sun.net.httpserver.nodelay", "true");
        System.setProperty("sun.net.httpserver.drainAmount", "0");
        Serve serve = new Serve(name, handler);
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(host, port), 1024);
        } catch (IOException | RuntimeException error) {
            fail("cannot listen on " + host + ":" + port + ": " + error.getMessage());
            return;
        }
        ExecutorService pool = Executors.newCachedThreadPool(task -> {
            Thread thread = new Thread(task);
            thread.setDaemon(true);
            return thread;
        });
        server.createContext("/", serve::handle);
        server.setExecutor(pool);
        long graceMs = (long) (graceS * 1000);
        int stopDelayS = (int) Math.ceil(graceS);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            serve.draining = true;
            Thread stopper = new Thread(() -> server.stop(stopDelayS));
            stopper.setDaemon(true);
            stopper.start();
            try {
                if (!serve.drain(graceMs)) {
                    System.err.println("functions/java: requests still in flight after the grace period");
                }
            } catch (InterruptedException error) {
                Thread.currentThread().interrupt();
            }
            System.err.flush();
            // SIGTERM would otherwise end the JVM with status 143; a clean shutdown is 0.
            Runtime.getRuntime().halt(0);
        }));
        server.start();
        InetSocketAddress bound = server.getAddress();
        System.err.println("functions/java: " + name + " on " + bound.getHostString() + ":" + bound.getPort()
                + " (instance " + Envelope.INSTANCE_ID + ")");
    }
}
