package dev.lagscaler.adapter;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * external.metrics.k8s.io/v1beta1 as a function of (path, query, store, now): discovery, OpenAPI documents and
 * ExternalMetricValueLists, with errors as Kubernetes Status objects. No I/O, so every input can be fuzzed; parsed
 * requests and the bodies built for them are memoized (see {@link #request}).
 */
public final class ExternalMetricsApi {
    public static final String GROUP = "external.metrics.k8s.io";
    public static final String VERSION = "v1beta1";
    public static final String SELECTOR_LABEL = "scaledobject.keda.sh/name";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
    private static final Pattern METRIC = Pattern.compile("[A-Za-z0-9][-A-Za-z0-9._]{0,252}");
    private static final Pattern LABEL_KEY = Pattern.compile("([A-Za-z0-9.-]{1,253}/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?");
    private static final Pattern LABEL_VALUE = Pattern.compile("([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?");

    /** An HTTP answer: status code and JSON body. */
    public record Response(int status, String body) {
    }

    /** Which metric a request asks for, once its path parsed: null fields for discovery paths. */
    public record Target(String namespace, String metric) {
    }

    private final MetricStore store;

    public ExternalMetricsApi(MetricStore store) {
        this.store = store;
    }

    /** The namespace and metric of a value path, or null for any other path. */
    public static Target target(String path) {
        String prefix = "/apis/" + GROUP + "/" + VERSION + "/namespaces/";
        if (!path.startsWith(prefix)) {
            return null;
        }
        String[] parts = path.substring(prefix.length()).split("/", -1);
        return parts.length == 2 ? new Target(parts[0], parts[1]) : null;
    }

    public Response get(String path, String rawQuery, Instant now) {
        return get(request(path, rawQuery), now);
    }

    /** The answer to a request parsed by {@link #request}. */
    public Response get(Request request, Instant now) {
        switch (request.path()) {
            case "/apis":
                return ok(groupList());
            case "/apis/" + GROUP:
                return ok(group());
            case "/apis/" + GROUP + "/" + VERSION:
                return ok(resourceList());
            case "/openapi/v2":
                return ok(JSON.createObjectNode().put("swagger", "2.0").set("info",
                        JSON.createObjectNode().put("title", "lagscaler external metrics").put("version", VERSION)))
                        ;
            case "/openapi/v3":
                return ok(JSON.createObjectNode().set("paths", JSON.createObjectNode()));
            default:
                break;
        }
        if (request.refused != null) {
            return request.refused;
        }
        MetricStore.Key key = request.key;
        String scaledObject = key.scaledObject();
        MetricStore.Slot slot = request.slot;
        MetricStore.Value value = slot == null ? null : slot.value();
        if (value == null) {
            slot = store.slot(key);
            request.slot = slot;
            value = slot == null ? null : slot.value();
        }
        if (value == null ? !store.synced() : !store.servable(slot)) {
            return status(503, "ServiceUnavailable", "no metric values known yet: waiting for the scaler's feed");
        }
        if (value == null) {
            return status(404, "NotFound", store.knowsScaledObject(key.namespace(), scaledObject)
                    ? "ScaledObject " + key.namespace() + "/" + scaledObject + " has no metric " + key.metric()
                    : "no ScaledObject " + key.namespace() + "/" + scaledObject + " with metrics is known");
        }
        if (value.error() != null) {
            return status(503, "ServiceUnavailable", "metric " + key.metric() + " of " + scaledObject + " failed: " + value.error());
        }
        if (value.staleAt(now)) {
            return status(503, "ServiceUnavailable", "metric " + key.metric() + " of " + scaledObject + " is stale: last value at "
                    + value.timestamp().truncatedTo(ChronoUnit.SECONDS));
        }
        // Values change once per poll while the HPA asks every sync: the body is built once per value and request.
        CachedBody cached = request.body;
        if (cached == null || cached.value() != value) {
            ObjectNode list = JSON.createObjectNode();
            list.put("kind", "ExternalMetricValueList");
            list.put("apiVersion", GROUP + "/" + VERSION);
            list.putObject("metadata");
            ObjectNode item = list.putArray("items").addObject();
            item.put("metricName", key.metric());
            item.putObject("metricLabels").put(SELECTOR_LABEL, scaledObject);
            item.put("timestamp", value.timestamp().truncatedTo(ChronoUnit.SECONDS).toString());
            item.put("value", quantity(value.valueMilli()));
            cached = new CachedBody(value, new Response(200, list.toString()));
            request.body = cached;
        }
        return cached.response();
    }

    /**
     * A request's path and query, parsed: for a value path, its target and the store key it asks for, or the 4xx it
     * gets whatever the store holds; for any other path, a null target.
     */
    public static final class Request {
        private final String path;
        private final Target target;
        private final MetricStore.Key key;
        private final Response refused;
        /** Where the value lives and the body built for it: found once, then read without a lookup. */
        private volatile MetricStore.Slot slot;
        private volatile CachedBody body;

        private Request(String path, Target target, MetricStore.Key key, Response refused) {
            this.path = path;
            this.target = target;
            this.key = key;
            this.refused = refused;
        }

        public String path() {
            return path;
        }

        /** The namespace and metric of a value path, or null for any other path. */
        public Target target() {
            return target;
        }
    }

    private record RawRequest(String path, String query) {
        @Override
        public int hashCode() {
            return Hashes.of("", path, query);
        }
    }

    private final Map<RawRequest, Request> requests = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * The request parsed. Valid value requests are kept per (path, query): the HPA asks the same URLs every sync, so
     * each is validated (regular expressions, percent-decoding, the selector) once; refused ones are parsed again.
     */
    public Request request(String path, String rawQuery) {
        RawRequest raw = new RawRequest(path, rawQuery);
        Request parsed = requests.get(raw);
        if (parsed == null) {
            parsed = parse(path, rawQuery);
            if (parsed.key != null) {
                if (requests.size() >= MAX_CACHED_REQUESTS) {
                    requests.clear();
                }
                requests.put(raw, parsed);
            }
        }
        return parsed;
    }

    /**
     * Under 1 KB each with its body (paths, parsed names, the JSON answer): at most 30 MB of the adapter's 384 MiB
     * limit, three times the metrics of the largest benchmark. Past it the cache starts again empty.
     */
    private static final int MAX_CACHED_REQUESTS = 30_000;

    private static Request parse(String path, String rawQuery) {
        Target target = target(path);
        if (target == null) {
            return refused(path, null, status(404, "NotFound", "the server could not find the requested resource " + truncate(path)));
        }
        if (!DNS_LABEL.matcher(target.namespace()).matches()) {
            return refused(path, target, status(400, "BadRequest", "invalid namespace \"" + truncate(target.namespace()) + "\""));
        }
        if (!METRIC.matcher(target.metric()).matches()) {
            return refused(path, target, status(400, "BadRequest", "invalid metric name \"" + truncate(target.metric()) + "\""));
        }
        Map<String, String> selector;
        try {
            selector = selector(query(rawQuery).get("labelSelector"));
        } catch (IllegalArgumentException e) {
            return refused(path, target, status(400, "BadRequest", e.getMessage()));
        }
        String scaledObject = selector.get(SELECTOR_LABEL);
        if (scaledObject == null) {
            return refused(path, target, status(400, "BadRequest", "labelSelector must select " + SELECTOR_LABEL + "=<ScaledObject name>"));
        }
        return new Request(path, target, new MetricStore.Key(target.namespace(), scaledObject, target.metric()), null);
    }

    private static Request refused(String path, Target target, Response response) {
        return new Request(path, target, null, response);
    }

    /** A response body and the value it was built from (compared by identity: a new report is a new value). */
    private record CachedBody(MetricStore.Value value, Response response) {
    }

    /** A Kubernetes quantity: whole units when exact, else milli-units. */
    public static String quantity(long milli) {
        return milli % 1000 == 0 ? String.valueOf(milli / 1000) : milli + "m";
    }

    /** Equality requirements of a label selector ({@code k=v}, {@code k==v}, {@code k in (v)}), comma-separated. */
    public static Map<String, String> selector(String text) {
        Map<String, String> requirements = new LinkedHashMap<>();
        if (text == null || text.isBlank()) {
            return requirements;
        }
        for (String raw : text.split(",", -1)) {
            String r = raw.trim();
            String key;
            String value;
            int in = r.indexOf(" in ");
            if (in > 0 && r.endsWith(")") && r.indexOf('(', in) > 0) {
                key = r.substring(0, in).trim();
                value = r.substring(r.indexOf('(', in) + 1, r.length() - 1).trim();
                if (value.contains(",")) {
                    throw new IllegalArgumentException("labelSelector: only single-value 'in' sets are supported");
                }
            } else {
                int eq = r.indexOf('=');
                if (eq <= 0 || r.startsWith("!") || (eq > 0 && r.charAt(eq - 1) == '!')) {
                    throw new IllegalArgumentException("labelSelector: \"" + truncate(r) + "\" is not a key=value requirement");
                }
                key = r.substring(0, eq).trim();
                value = r.substring(r.startsWith("==", eq) ? eq + 2 : eq + 1).trim();
            }
            if (!LABEL_KEY.matcher(key).matches() || !LABEL_VALUE.matcher(value).matches()) {
                throw new IllegalArgumentException("labelSelector: invalid requirement \"" + truncate(r) + "\"");
            }
            requirements.put(key, value);
        }
        return requirements;
    }

    static Map<String, String> query(String raw) {
        Map<String, String> params = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return params;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            try {
                String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                params.putIfAbsent(k, v);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("query: malformed percent-encoding");
            }
        }
        return params;
    }

    private ObjectNode resourceList() {
        ObjectNode list = JSON.createObjectNode();
        list.put("kind", "APIResourceList");
        list.put("apiVersion", "v1");
        list.put("groupVersion", GROUP + "/" + VERSION);
        ArrayNode resources = list.putArray("resources");
        for (String metric : store.metricNames()) {
            ObjectNode r = resources.addObject();
            r.put("name", metric);
            r.put("singularName", "");
            r.put("namespaced", true);
            r.put("kind", "ExternalMetricValueList");
            r.putArray("verbs").add("get");
        }
        return list;
    }

    private static ObjectNode group() {
        ObjectNode g = JSON.createObjectNode();
        g.put("kind", "APIGroup");
        g.put("apiVersion", "v1");
        g.put("name", GROUP);
        ObjectNode version = JSON.createObjectNode().put("groupVersion", GROUP + "/" + VERSION).put("version", VERSION);
        g.putArray("versions").add(version);
        g.set("preferredVersion", version.deepCopy());
        return g;
    }

    private static ObjectNode groupList() {
        ObjectNode list = JSON.createObjectNode();
        list.put("kind", "APIGroupList");
        list.put("apiVersion", "v1");
        ObjectNode g = group();
        g.remove("kind");
        g.remove("apiVersion");
        list.putArray("groups").add(g);
        return list;
    }

    private static Response ok(ObjectNode body) {
        return new Response(200, body.toString());
    }

    /** A Kubernetes Status for an error. */
    /** The probes' answer when healthy. */
    public static Response healthy() {
        return new Response(200, JSON.createObjectNode().put("status", "ok").toString());
    }

    public static Response status(int code, String reason, String message) {
        ObjectNode s = JSON.createObjectNode();
        s.put("kind", "Status");
        s.put("apiVersion", "v1");
        s.putObject("metadata");
        s.put("status", "Failure");
        s.put("message", message);
        s.put("reason", reason);
        s.put("code", code);
        return new Response(code, s.toString());
    }

    private static String truncate(String s) {
        return s.length() > 100 ? s.substring(0, 100) + "..." : s;
    }
}
