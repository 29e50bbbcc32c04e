import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;

/**
 * The OpenWhisk java:8 entry: main(JsonObject) runs one function of the suite and returns the
 * envelope functions/_openwhisk.py returns, {"result", "meta"} or {"error", "meta"}, with
 * meta.adapter "openwhisk"; parameters named __ow_* are dropped.
 *
 * <p>The runtime loads the action's jar, finds the class the action's `main` names and calls its
 * public static main(JsonObject) with the activation's parameters, keeping the class (and so
 * the instance id and cold flag) across warm activations. The function is named by
 * function.json ({"function": NAME}) at the jar's root, which functions/package.py writes, else
 * by the environment variable FUNCTION. Parameters go from Gson to the suite's Json model as
 * JSON text (Gson keeps each number's literal, so integers stay integers) and the envelope comes
 * back the same way, so the result is the document the HTTP server writes. Built at --release 8
 * against Gson, which the runtime provides; the HTTP server never compiles this file.
 */
public final class WhiskAction {
    private WhiskAction() {}

    static final String FUNCTION_FILE = "/function.json";

    /** The function function.json names, else FUNCTION's. */
    static String chosen() throws IOException, Json.JsonException {
        InputStream stream = WhiskAction.class.getResourceAsStream(FUNCTION_FILE);
        if (stream == null) {
            return System.getenv("FUNCTION");
        }
        ByteArrayOutputStream content = new ByteArrayOutputStream();
        try {
            byte[] buffer = new byte[4096];
            for (int read = stream.read(buffer); read >= 0; read = stream.read(buffer)) {
                content.write(buffer, 0, read);
            }
        } finally {
            stream.close();
        }
        Object document = Json.parse(new String(content.toByteArray(), StandardCharsets.UTF_8));
        Object name = document instanceof Map<?, ?> ? ((Map<?, ?>) document).get("function") : null;
        return name instanceof String ? (String) name : null;
    }

    // JsonParser's instance parse: the runtime's Gson (2.6.2) predates the static parseString.
    @SuppressWarnings("deprecation")
    public static JsonObject main(JsonObject args) throws IOException, Json.JsonException {
        String name = chosen();
        Envelope.Handler handler = name == null ? null : Functions.byName(name);
        if (handler == null) {
            throw new IllegalArgumentException("unknown function " + (name == null ? "null" : "'" + name + "'")
                    + "; known: " + String.join(", ", Envelope.FUNCTION_NAMES));
        }
        Object params = Json.parse(args == null ? "{}" : args.toString());
        if (params instanceof Map<?, ?>) {
            Iterator<?> keys = ((Map<?, ?>) params).keySet().iterator();
            while (keys.hasNext()) {
                if (String.valueOf(keys.next()).startsWith("__ow_")) {
                    keys.remove();
                }
            }
        }
        Envelope.Outcome outcome = Envelope.invoke(name, handler, params, "openwhisk");
        return new JsonParser().parse(Json.dump(outcome.document())).getAsJsonObject();
    }
}
