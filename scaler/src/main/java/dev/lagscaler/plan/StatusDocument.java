package dev.lagscaler.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lagscaler.KedaKeys;
import dev.lagscaler.lag.TriggerResult;
import dev.lagscaler.scaling.Condition;
import dev.lagscaler.scaling.Decision;
import dev.lagscaler.scaling.ScaledObjectSpec;
import dev.lagscaler.scaling.ScalingPolicy;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The ScaledObject's status as KEDA writes it (conditions in KEDA's order, health per metric), built from a decision. */
final class StatusDocument {
    private static final ObjectMapper JSON = new ObjectMapper();

    private StatusDocument() {
    }

    /** The status for a decision, with lagscaler's ConsumerHealthy condition after KEDA's (when not null). */
    static ObjectNode forDecision(ScaledObjectSpec spec, PlanInput in, Decision decision, Condition consumerHealth,
                                  Map<Integer, DrainState> drains) {
        JsonNode old = in.status();
        ObjectNode status = JSON.createObjectNode();
        status.put("scaleTargetKind", spec.target().apiVersion() + "." + spec.target().kind());
        status.set("scaleTargetGVKR", gvkr(spec.target()));
        status.put("originalReplicaCount", old.has("originalReplicaCount") ? old.get("originalReplicaCount").asInt()
                : in.currentReplicas());
        if (decision.lastActiveTime() != null) {
            status.put("lastActiveTime", decision.lastActiveTime().toString());
        }
        status.put("hpaName", spec.hpaName());
        triggerTypes(status, spec.triggers());
        ArrayNode external = status.putArray("externalMetricNames");
        ObjectNode health = status.putObject("health");
        for (ResolvedTrigger t : in.triggers()) {
            if (!(t instanceof ResolvedTrigger.Kafka k)) {
                continue;
            }
            String metric = k.settings().metricName(t.index());
            external.add(metric);
            TriggerHealth h = in.health().getOrDefault(t.index(), TriggerHealth.PENDING);
            ObjectNode node = health.putObject(metric);
            node.put("numberOfFailures", h.consecutiveFailures());
            node.put("status", h.consecutiveFailures() > 0 ? "Failing" : "Happy");
            if (h.latest() instanceof TriggerResult.Failed f) {
                node.put("lastError", f.error().toString());
            } else if (h.latest() instanceof TriggerResult.Measured m) {
                node.put("lastValue", String.valueOf(m.lag().metricValue()));
            }
            DrainState drain = drains.get(t.index());
            if (drain != null) {
                drain.writeTo(node);
            }
        }
        if (decision.atZero() && in.wakeUp() != null) {
            status.put("activation", activation(in));
        }
        ArrayNode resources = status.putArray("resourceMetricNames");
        spec.triggers().stream().filter(ScaledObjectSpec.TriggerSpec::isResource).forEach(t -> resources.add(t.type()));
        String paused = spec.annotations().get(KedaKeys.PAUSED_REPLICAS);
        if (paused != null && paused.trim().matches("\\d{1,9}")) {
            status.put("pausedReplicaCount", Integer.parseInt(paused.trim()));
        }
        Map<String, Condition> conditions = new LinkedHashMap<>(decision.conditions());
        if (consumerHealth != null) {
            conditions.put(ReconcilePlanner.CONSUMER_HEALTHY, consumerHealth);
        }
        status.set("conditions", conditions(old, conditions, in.now()));
        return status;
    }

    /**
     * KEDA's triggersTypes and authenticationsTypes (absent without authentication references), as comma-separated
     * lists of the distinct trigger types and referenced authentications; a ScaledObject's or a ScaledJob's.
     */
    static void triggerTypes(ObjectNode status, List<ScaledObjectSpec.TriggerSpec> triggers) {
        status.put("triggersTypes", String.join(",", triggers.stream().map(ScaledObjectSpec.TriggerSpec::type)
                .distinct().toList()));
        List<String> auths = triggers.stream().map(ScaledObjectSpec.TriggerSpec::authName)
                .filter(java.util.Objects::nonNull).distinct().toList();
        if (!auths.isEmpty()) {
            status.put("authenticationsTypes", String.join(",", auths));
        }
    }

    /**
     * KEDA's scaleTargetGVKR: the target's group, version, kind and resource. The resource is the kind's lower-case
     * plural as Kubernetes forms it for the kinds that serve /scale (deployments, statefulsets, replicasets, and
     * custom kinds named the usual way).
     */
    static ObjectNode gvkr(ScaledObjectSpec.ScaleTarget target) {
        ObjectNode gvkr = JSON.createObjectNode();
        String apiVersion = target.apiVersion();
        int slash = apiVersion.indexOf('/');
        gvkr.put("group", slash < 0 ? "" : apiVersion.substring(0, slash));
        gvkr.put("version", slash < 0 ? apiVersion : apiVersion.substring(slash + 1));
        gvkr.put("kind", target.kind());
        gvkr.put("resource", target.kind().toLowerCase(java.util.Locale.ROOT) + "s");
        return gvkr;
    }

    /**
     * How a target at zero will learn of its first record (lagscaler's status field): the wake-up consumer, or the
     * fast polling interval and why the consumer does not serve it.
     */
    static String activation(PlanInput in) {
        String polled = "polled every " + ReconcilePlanner.fastInterval(in.spec(), in.fastInterval()).toMillis() + " ms";
        if (!in.wakeUp().enabled()) {
            return polled + " (the wake-up consumer is off: --no-wake-up-consumer)";
        }
        List<String> problems = new ArrayList<>();
        for (ResolvedTrigger t : in.triggers()) {
            if (!(t instanceof ResolvedTrigger.Kafka k)) {
                continue;
            }
            String cluster = k.settings().connection().label();
            if (!in.wakeUp().errorByCluster().containsKey(cluster)) {
                problems.add("trigger " + t.index() + ": no wake-up consumer for " + cluster + " (GSSAPI clusters are polled only)");
            } else if (in.wakeUp().errorByCluster().get(cluster) != null) {
                problems.add("trigger " + t.index() + ": the wake-up consumer cannot fetch: " + in.wakeUp().errorByCluster().get(cluster));
            }
        }
        return problems.isEmpty() ? "the first record wakes it (wake-up consumer)"
                : polled + ": " + String.join("; ", problems);
    }

    static ObjectNode notReady(JsonNode old, String reason, String message, Instant now) {
        ObjectNode status = old.isObject() ? ((ObjectNode) old).deepCopy() : JSON.createObjectNode();
        Map<String, Condition> conditions = new LinkedHashMap<>();
        conditions.put(ScalingPolicy.READY, Condition.no(reason, message));
        conditions.put(ScalingPolicy.ACTIVE, Condition.unknown(reason, "Not evaluated: the ScaledObject is not ready"));
        status.set("conditions", conditions(old, conditions, now));
        return status;
    }

    /** Conditions in KEDA's order, keeping lastTransitionTime when a condition's status did not change. */
    private static ArrayNode conditions(JsonNode old, Map<String, Condition> wanted, Instant now) {
        return conditions(old, wanted, now, ReconcilePlanner.CONDITION_TYPES);
    }

    /** The conditions of {@code types}, in that order, each keeping its lastTransitionTime while its status holds. */
    static ArrayNode conditions(JsonNode old, Map<String, Condition> wanted, Instant now, List<String> types) {
        ArrayNode list = JSON.createArrayNode();
        for (String type : types) {
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
                    ? previous.get("lastTransitionTime").asText() : now.truncatedTo(ChronoUnit.SECONDS).toString());
        }
        return list;
    }

    static JsonNode condition(JsonNode status, String type) {
        for (JsonNode c : status.path("conditions")) {
            if (c.path("type").asText().equals(type)) {
                return c;
            }
        }
        return null;
    }

    static String conditionStatus(JsonNode status, String type) {
        JsonNode c = condition(status, type);
        return c == null ? null : c.path("status").asText();
    }

    static String conditionReason(JsonNode status, String type) {
        JsonNode c = condition(status, type);
        return c == null ? null : c.path("reason").asText();
    }

    /** status.lastActiveTime, or null when never active (or unreadable: then the object counts as never active). */
    static Instant lastActiveTime(JsonNode status) {
        if (!status.hasNonNull("lastActiveTime")) {
            return null;
        }
        try {
            return Instant.parse(status.get("lastActiveTime").asText());
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
