package dev.lagscaler.controller;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lagscaler.Durations;
import dev.lagscaler.KedaKeys;
import dev.lagscaler.feed.v1.MetricUpdate;
import dev.lagscaler.lag.TriggerResult;
import dev.lagscaler.metrics.MetricsSink;
import dev.lagscaler.scaling.Condition;
import dev.lagscaler.scaling.Decision;
import dev.lagscaler.scaling.ScaledObjectInvalid;
import dev.lagscaler.scaling.ScaledObjectParser;
import dev.lagscaler.scaling.ScaledObjectSpec;
import dev.lagscaler.scaling.ScalingInput;
import dev.lagscaler.scaling.ScalingPolicy;
import dev.lagscaler.scaling.TriggerOutcome;
import dev.lagscaler.trigger.KafkaTriggerParser;
import dev.lagscaler.trigger.KafkaTriggerSettings;
import dev.lagscaler.trigger.TriggerInput;
import dev.lagscaler.trigger.TriggerParseException;
import io.kubernetes.client.extended.controller.reconciler.Reconciler;
import io.kubernetes.client.extended.controller.reconciler.Request;
import io.kubernetes.client.extended.controller.reconciler.Result;
import io.kubernetes.client.openapi.ApiException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciles one ScaledObject: keeps its triggers registered with the lag engine, asks {@link ScalingPolicy} what to
 * do, and applies that as small steps: the HPA (only when different), the /scale write for activation, deactivation,
 * fallback and pause, Events on transitions, and the status. Level-triggered: it reads everything each time.
 */
final class ScaledObjectReconciler implements Reconciler {
    private static final Logger LOG = LoggerFactory.getLogger(ScaledObjectReconciler.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Function<String, JsonNode> scaledObjects;
    private final TriggerRegistry registry;
    private final AuthResolver auth;
    private final ScaleClient scale;
    private final KubeHttp http;
    private final EventRecorder events;
    private final OperatorConfig config;
    private final Clock clock;
    private final MetricsSink metrics;

    ScaledObjectReconciler(Function<String, JsonNode> scaledObjects, TriggerRegistry registry, AuthResolver auth,
                           ScaleClient scale, KubeHttp http, EventRecorder events, OperatorConfig config, Clock clock,
                           MetricsSink metrics) {
        this.metrics = metrics;
        this.scaledObjects = scaledObjects;
        this.registry = registry;
        this.auth = auth;
        this.scale = scale;
        this.http = http;
        this.events = events;
        this.config = config;
        this.clock = clock;
    }

    @Override
    public Result reconcile(Request request) {
        String key = request.getNamespace() + "/" + request.getName();
        JsonNode so = scaledObjects.apply(key);
        if (so == null) {
            registry.remove(key);
            metrics.removeObject(request.getNamespace(), request.getName());
            return new Result(false);
        }
        try {
            if (so.path("metadata").hasNonNull("deletionTimestamp")) {
                finalizeDeletion(key, so);
                return new Result(false);
            }
            ensureFinalizer(so);
            return reconcileLive(key, so);
        } catch (ApiException e) {
            LOG.warn("event=reconcile_failed scaledobject={} code={} error=\"{}\"", key, e.getCode(), oneLine(e.getMessage()));
            return new Result(true, Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            LOG.error("event=reconcile_crashed scaledobject={} error=\"{}\"", key, oneLine(e.toString()), e);
            return new Result(true, Duration.ofSeconds(10));
        }
    }

    private Result reconcileLive(String key, JsonNode so) throws ApiException {
        String namespace = so.path("metadata").path("namespace").asText();
        String name = so.path("metadata").path("name").asText();
        String uid = so.path("metadata").path("uid").asText();
        JsonNode status = so.path("status");
        ScaledObjectSpec spec;
        try {
            spec = ScaledObjectParser.parse(so);
        } catch (ScaledObjectInvalid e) {
            registry.remove(key);
            metrics.removeObject(namespace, name);
            writeStatusIfChanged(namespace, name, status, notReady(status, e.reason(), e.getMessage()));
            recordOnce(status, namespace, name, uid, "Warning", e.reason(), e.getMessage());
            return new Result(false);
        }

        int current;
        try {
            current = scale.replicas(namespace, spec.target());
        } catch (ApiException e) {
            String message = spec.target().kind() + " " + spec.target().name() + " has no usable /scale (HTTP " + e.getCode() + ")";
            writeStatusIfChanged(namespace, name, status, notReady(status, "ScaleTargetNotFound", message));
            recordOnce(status, namespace, name, uid, "Warning", "ScaleTargetNotFound", message);
            return new Result(true, Duration.ofSeconds(10));
        }

        // Parse the triggers: kafka ones are registered with the engine, the rest become HPA resource metrics.
        List<TriggerOutcome> outcomes = new ArrayList<>();
        Map<Integer, KafkaTriggerSettings> kafka = new HashMap<>();
        List<HpaBuilder.Metric> metrics = new ArrayList<>();
        Map<String, String> env = null;
        for (int i = 0; i < spec.triggers().size(); i++) {
            ScaledObjectSpec.TriggerSpec t = spec.triggers().get(i);
            switch (t.type()) {
                case "kafka" -> {
                    try {
                        // The target's environment is read once per reconcile, and only when a trigger needs it.
                        if (env == null) {
                            env = spec.triggers().stream().anyMatch(ScaledObjectReconciler::needsTargetEnv)
                                    ? auth.containerEnv(namespace, readTarget(namespace, spec), spec.target().envSourceContainerName())
                                    : Map.of();
                        }
                        KafkaTriggerSettings settings = KafkaTriggerParser.parse(new TriggerInput(t.metadata(),
                                auth.authParams(namespace, t, env), env, t.metricType()));
                        kafka.put(i, settings);
                        metrics.add(HpaBuilder.Metric.external(settings.metricName(i),
                                settings.metricType().kubernetesName(), settings.lagThreshold()));
                    } catch (TriggerParseException e) {
                        outcomes.add(new TriggerOutcome(i, t.type(), TriggerOutcome.State.INVALID, false, 0, 0, e.getMessage()));
                    }
                }
                case "cpu", "memory" -> {
                    String type = t.metricType() == null ? "Utilization" : t.metricType();
                    String value = t.metadata().getOrDefault("value", "");
                    if (value.isEmpty() || (type.equals("Utilization") && !value.matches("\\d+"))) {
                        outcomes.add(new TriggerOutcome(i, t.type(), TriggerOutcome.State.INVALID, false, 0, 0,
                                "value must be set (a whole number for Utilization)"));
                    } else {
                        metrics.add(HpaBuilder.Metric.resource(t.type(), type, value));
                        outcomes.add(new TriggerOutcome(i, t.type(), TriggerOutcome.State.RESOURCE, false, 0, 0, null));
                    }
                }
                default -> outcomes.add(new TriggerOutcome(i, t.type(), TriggerOutcome.State.UNSUPPORTED, false, 0, 0, null));
            }
        }

        Duration fast = fastInterval(spec);
        Duration normal = Duration.ofSeconds(spec.pollingIntervalSeconds());
        registry.sync(key, kafka, current == 0 ? fast : normal);
        kafka.keySet().forEach(i -> outcomes.add(registry.outcome(key, i)));
        outcomes.sort((a, b) -> Integer.compare(a.index(), b.index()));

        Instant now = clock.instant();
        Instant lastActive = status.hasNonNull("lastActiveTime") ? Instant.parse(status.get("lastActiveTime").asText()) : null;
        Decision decision = ScalingPolicy.decide(new ScalingInput(spec, outcomes, current, lastActive, now));

        // The replica write first: activation latency is what users wait on; the HPA can follow a moment later.
        if (decision.scaleWrite()) {
            scale.setReplicas(namespace, spec.target(), decision.replicas());
            LOG.info("event=scaled scaledobject={} from={} to={} reason=\"{}\"", key, current, decision.replicas(),
                    decision.reason());
        }
        applyHpa(spec, uid, metrics, decision.hpaWanted());
        if (decision.event() != null) {
            events.record(namespace, name, uid, decision.event().equals("KEDAScalerFailed") ? "Warning" : "Normal",
                    decision.event(), decision.reason());
        }
        registry.setInterval(key, decision.atZero() ? fast : normal);
        publishMetrics(spec, kafka, current, normal);

        ObjectNode newStatus = statusFor(spec, status, decision, current, kafka);
        Condition ready = decision.conditions().get(ScalingPolicy.READY);
        String oldReadyReason = conditionReason(status, ScalingPolicy.READY);
        if (writeStatusIfChanged(namespace, name, status, newStatus) && ready != null
                && ready.status().equals("False") && !ready.reason().equals(oldReadyReason)) {
            events.record(namespace, name, uid, "Warning", ready.reason(), ready.message());
            LOG.warn("event=not_ready scaledobject={} reason={} message=\"{}\"", key, ready.reason(), oneLine(ready.message()));
        }
        return new Result(true, normal.compareTo(Duration.ofSeconds(60)) < 0 ? normal.multipliedBy(2) : Duration.ofSeconds(120));
    }

    /**
     * Sends each kafka trigger's value to the metrics feed: the measurement, or past failureThreshold the fallback
     * value (so the HPA lands on fallback.replicas), or the error. A value older than 3 x pollingInterval is stale.
     */
    private void publishMetrics(ScaledObjectSpec spec, Map<Integer, KafkaTriggerSettings> kafka, int current, Duration interval) {
        String key = spec.namespace() + "/" + spec.name();
        kafka.forEach((index, settings) -> {
            TriggerRegistry.Entry entry = registry.entries(key).get(index);
            TriggerResult latest = entry == null ? null : entry.latest;
            if (latest == null) {
                return;
            }
            MetricUpdate.Builder update = MetricUpdate.newBuilder().setNamespace(spec.namespace()).setScaledObject(spec.name())
                    .setMetricName(settings.metricName(index)).setTimestampMillis(latest.at().toEpochMilli())
                    .setStaleAfterMillis(interval.multipliedBy(3).toMillis());
            if (latest instanceof TriggerResult.Measured m) {
                update.setValueMilli(m.lag().metricValue() * 1000);
            } else if (ScalingPolicy.fallbackEngaged(spec.fallback(), entry.consecutiveFailures)) {
                update.setValueMilli(ScalingPolicy.fallbackMetricMilli(spec.fallback(), settings.metricType(),
                        settings.lagThreshold(), current)).setFallback(true).setTimestampMillis(clock.millis());
            } else {
                update.setError(((TriggerResult.Failed) latest).error().toString());
            }
            metrics.publish(update.build());
        });
    }

    private Duration fastInterval(ScaledObjectSpec spec) {
        String annotation = spec.annotations().get(KedaKeys.FAST_ACTIVATION_INTERVAL);
        if (annotation != null) {
            try {
                return Durations.parse(KedaKeys.FAST_ACTIVATION_INTERVAL, annotation);
            } catch (TriggerParseException e) {
                LOG.warn("event=bad_annotation scaledobject={}/{} annotation={} error=\"{}\"", spec.namespace(), spec.name(),
                        KedaKeys.FAST_ACTIVATION_INTERVAL, e.getMessage());
            }
        }
        return config.fastActivationInterval();
    }

    private static boolean needsTargetEnv(ScaledObjectSpec.TriggerSpec t) {
        return t.authName() != null || t.metadata().keySet().stream().anyMatch(k -> k.endsWith("FromEnv"));
    }

    private JsonNode readTarget(String namespace, ScaledObjectSpec spec) throws ApiException {
        String path = scale.scalePath(namespace, spec.target());
        try {
            return JSON.readTree(http.get(path.substring(0, path.length() - "/scale".length())));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return null;
        }
    }

    private void applyHpa(ScaledObjectSpec spec, String uid, List<HpaBuilder.Metric> metrics, boolean wanted)
            throws ApiException {
        String collection = "/apis/autoscaling/v2/namespaces/" + spec.namespace() + "/horizontalpodautoscalers";
        JsonNode existing = null;
        try {
            existing = JSON.readTree(http.get(collection + "/" + spec.hpaName()));
        } catch (ApiException e) {
            if (e.getCode() != 404) {
                throw e;
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ApiException("unreadable HPA " + spec.hpaName());
        }
        if (!wanted || metrics.isEmpty()) {
            if (existing != null && ownedBy(existing, uid)) {
                http.delete(collection + "/" + spec.hpaName());
                LOG.info("event=hpa_deleted scaledobject={}/{} hpa={}", spec.namespace(), spec.name(), spec.hpaName());
            }
            return;
        }
        ObjectNode desired = HpaBuilder.desired(spec, uid, metrics);
        String desiredHash = desired.path("metadata").path("annotations").path(HpaBuilder.SPEC_HASH).asText();
        if (existing == null) {
            http.post(collection, desired.toString());
            LOG.info("event=hpa_created scaledobject={}/{} hpa={}", spec.namespace(), spec.name(), spec.hpaName());
        } else if (!desiredHash.equals(existing.path("metadata").path("annotations").path(HpaBuilder.SPEC_HASH).asText())) {
            // Optimistic concurrency: the PUT carries the resourceVersion we read.
            ((ObjectNode) desired.path("metadata")).put("resourceVersion", existing.path("metadata").path("resourceVersion").asText());
            http.put(collection + "/" + spec.hpaName(), desired.toString());
            LOG.info("event=hpa_updated scaledobject={}/{} hpa={}", spec.namespace(), spec.name(), spec.hpaName());
        }
    }

    private static boolean ownedBy(JsonNode object, String uid) {
        for (JsonNode ref : object.path("metadata").path("ownerReferences")) {
            if (ref.path("uid").asText().equals(uid)) {
                return true;
            }
        }
        return false;
    }

    private ObjectNode statusFor(ScaledObjectSpec spec, JsonNode old, Decision decision, int current,
                                 Map<Integer, KafkaTriggerSettings> kafka) {
        ObjectNode status = JSON.createObjectNode();
        status.put("scaleTargetKind", spec.target().apiVersion() + "." + spec.target().kind());
        status.put("originalReplicaCount", old.has("originalReplicaCount") ? old.get("originalReplicaCount").asInt() : current);
        if (decision.lastActiveTime() != null) {
            status.put("lastActiveTime", decision.lastActiveTime().toString());
        }
        status.put("hpaName", spec.hpaName());
        ArrayNode external = status.putArray("externalMetricNames");
        ObjectNode health = status.putObject("health");
        kafka.forEach((index, settings) -> {
            String metric = settings.metricName(index);
            external.add(metric);
            TriggerRegistry.Entry entry = registry.entries(spec.namespace() + "/" + spec.name()).get(index);
            ObjectNode h = health.putObject(metric);
            int failures = entry == null ? 0 : entry.consecutiveFailures;
            h.put("numberOfFailures", failures);
            h.put("status", failures > 0 ? "Failing" : "Happy");
            TriggerResult latest = entry == null ? null : entry.latest;
            if (latest instanceof TriggerResult.Failed f) {
                h.put("lastError", f.error().toString());
            } else if (latest instanceof TriggerResult.Measured m) {
                h.put("lastValue", String.valueOf(m.lag().metricValue()));
            }
        });
        ArrayNode resources = status.putArray("resourceMetricNames");
        spec.triggers().stream().filter(ScaledObjectSpec.TriggerSpec::isResource).forEach(t -> resources.add(t.type()));
        if (spec.annotations().containsKey(KedaKeys.PAUSED_REPLICAS)) {
            try {
                status.put("pausedReplicaCount", Integer.parseInt(spec.annotations().get(KedaKeys.PAUSED_REPLICAS).trim()));
            } catch (NumberFormatException e) {
                // reported through the Ready condition
            }
        }
        status.set("conditions", conditions(old, decision.conditions()));
        return status;
    }

    private ObjectNode notReady(JsonNode old, String reason, String message) {
        ObjectNode status = old.isObject() ? ((ObjectNode) old).deepCopy() : JSON.createObjectNode();
        Map<String, Condition> conditions = new java.util.LinkedHashMap<>();
        conditions.put(ScalingPolicy.READY, Condition.no(reason, message));
        conditions.put(ScalingPolicy.ACTIVE, Condition.unknown(reason, "Not evaluated: the ScaledObject is not ready"));
        status.set("conditions", conditions(old, conditions));
        return status;
    }

    /** Conditions in KEDA's order, keeping lastTransitionTime when a condition's status did not change. */
    private ArrayNode conditions(JsonNode old, Map<String, Condition> wanted) {
        ArrayNode list = JSON.createArrayNode();
        for (String type : List.of(ScalingPolicy.READY, ScalingPolicy.ACTIVE, ScalingPolicy.FALLBACK, ScalingPolicy.PAUSED)) {
            Condition c = wanted.get(type);
            JsonNode previous = condition(old, type);
            if (c == null) {
                if (previous != null) {
                    list.add(previous);
                }
                continue;
            }
            ObjectNode node = list.addObject();
            node.put("type", type);
            node.put("status", c.status());
            node.put("reason", c.reason());
            node.put("message", c.message());
            boolean same = previous != null && previous.path("status").asText().equals(c.status());
            node.put("lastTransitionTime", same && previous.hasNonNull("lastTransitionTime")
                    ? previous.get("lastTransitionTime").asText() : clock.instant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
        }
        return list;
    }

    private static JsonNode condition(JsonNode status, String type) {
        for (JsonNode c : status.path("conditions")) {
            if (c.path("type").asText().equals(type)) {
                return c;
            }
        }
        return null;
    }

    private static String conditionReason(JsonNode status, String type) {
        JsonNode c = condition(status, type);
        return c == null ? null : c.path("reason").asText();
    }

    /** Patches the status subresource only when something changed; returns whether it wrote. */
    private boolean writeStatusIfChanged(String namespace, String name, JsonNode old, ObjectNode status) throws ApiException {
        if (status.equals(old)) {
            return false;
        }
        ObjectNode patch = JSON.createObjectNode();
        patch.set("status", status);
        http.patch(soPath(namespace, name) + "/status", patch.toString());
        return true;
    }

    private void recordOnce(JsonNode status, String namespace, String name, String uid, String type, String reason, String message) {
        JsonNode ready = condition(status, ScalingPolicy.READY);
        if (ready == null || !reason.equals(ready.path("reason").asText()) || !message.equals(ready.path("message").asText())) {
            events.record(namespace, name, uid, type, reason, message);
            LOG.warn("event=not_ready scaledobject={}/{} reason={} message=\"{}\"", namespace, name, reason, oneLine(message));
        }
    }

    private void ensureFinalizer(JsonNode so) throws ApiException {
        ArrayNode finalizers = JSON.createArrayNode();
        for (JsonNode f : so.path("metadata").path("finalizers")) {
            if (f.asText().equals(KedaKeys.FINALIZER)) {
                return;
            }
            finalizers.add(f);
        }
        finalizers.add(KedaKeys.FINALIZER);
        patchFinalizers(so, finalizers);
    }

    private void finalizeDeletion(String key, JsonNode so) throws ApiException {
        registry.remove(key);
        metrics.removeObject(so.path("metadata").path("namespace").asText(), so.path("metadata").path("name").asText());
        String namespace = so.path("metadata").path("namespace").asText();
        String uid = so.path("metadata").path("uid").asText();
        try {
            ScaledObjectSpec spec = ScaledObjectParser.parse(so);
            applyHpa(spec, uid, List.of(), false);
            JsonNode original = so.path("status").get("originalReplicaCount");
            if (spec.restoreToOriginalReplicaCount() && original != null) {
                scale.setReplicas(namespace, spec.target(), original.asInt());
                LOG.info("event=restored scaledobject={} replicas={}", key, original.asInt());
            }
        } catch (ScaledObjectInvalid e) {
            // Nothing of ours can exist for an object that never parsed.
        } catch (ApiException e) {
            if (e.getCode() != 404) {
                throw e;
            }
        }
        ArrayNode remaining = JSON.createArrayNode();
        boolean ours = false;
        for (JsonNode f : so.path("metadata").path("finalizers")) {
            if (f.asText().equals(KedaKeys.FINALIZER)) {
                ours = true;
            } else {
                remaining.add(f);
            }
        }
        if (ours) {
            patchFinalizers(so, remaining);
            LOG.info("event=finalized scaledobject={}", key);
        }
    }

    private void patchFinalizers(JsonNode so, ArrayNode finalizers) throws ApiException {
        ObjectNode patch = JSON.createObjectNode();
        ObjectNode meta = patch.putObject("metadata");
        meta.set("finalizers", finalizers);
        meta.put("resourceVersion", so.path("metadata").path("resourceVersion").asText());
        http.patch(soPath(so.path("metadata").path("namespace").asText(), so.path("metadata").path("name").asText()),
                patch.toString());
    }

    static String soPath(String namespace, String name) {
        return "/apis/" + KedaKeys.GROUP + "/" + KedaKeys.VERSION + "/namespaces/" + namespace + "/"
                + KedaKeys.SCALED_OBJECTS + "/" + name;
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replace('\n', ' ').replace('"', '\'');
    }
}
