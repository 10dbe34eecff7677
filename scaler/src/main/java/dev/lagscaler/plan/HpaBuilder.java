package dev.lagscaler.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lagscaler.KedaKeys;
import dev.lagscaler.scaling.KedaBoolean;
import dev.lagscaler.scaling.ScaledObjectSpec;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Builds the autoscaling/v2 HPA a ScaledObject wants, as KEDA does: one External metric per event trigger (KEDA's
 * names, selected by {@code scaledobject.keda.sh/name}), Resource metrics for cpu and memory, minReplicas
 * max(min, 1), behaviour from {@code advanced}, KEDA's labels and the object's own labels and annotations. Pure: the same input gives the same object and the same hash.
 */
public final class HpaBuilder {
    public static final String SPEC_HASH = "lagscaler.dev/spec-hash";
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One metric of the HPA, computed from a parsed trigger; {@code container} is set for a ContainerResource metric
     * (a cpu or memory trigger with {@code containerName}), else null.
     */
    public record Metric(String type, String name, String targetType, String targetValue, String container) {
        public Metric(String type, String name, String targetType, String targetValue) {
            this(type, name, targetType, targetValue, null);
        }

        public static Metric external(String name, String targetType, long value) {
            return new Metric("External", name, targetType, String.valueOf(value));
        }

        /** A Resource metric, or with a container name KEDA's ContainerResource metric of that container alone. */
        public static Metric resource(String resource, String targetType, String value, String container) {
            return container == null ? new Metric("Resource", resource, targetType, value)
                    : new Metric("ContainerResource", resource, targetType, value, container);
        }
    }

    private HpaBuilder() {
    }

    public static ObjectNode desired(ScaledObjectSpec spec, String ownerUid, List<Metric> metrics) {
        ObjectNode hpa = JSON.createObjectNode();
        hpa.put("apiVersion", "autoscaling/v2");
        hpa.put("kind", "HorizontalPodAutoscaler");
        ObjectNode meta = hpa.putObject("metadata");
        meta.put("name", spec.hpaName());
        meta.put("namespace", spec.namespace());
        // KEDA's labels, then the ScaledObject's own over them (KEDA copies them so, but those listed in
        // scaledobject.keda.sh/hpa-excluded-labels), then the one the metrics API selects on; the ScaledObject's annotations, as KEDA copies them, with our spec hash beside.
        ObjectNode labels = meta.putObject("labels");
        labels.put("app.kubernetes.io/name", spec.hpaName());
        labels.put("app.kubernetes.io/part-of", spec.name());
        labels.put("app.kubernetes.io/managed-by", "lagscaler");
        java.util.Set<String> excluded = java.util.Set.of(spec.annotations()
                .getOrDefault(KedaKeys.HPA_EXCLUDED_LABELS, "").split(","));
        spec.labels().forEach((key, value) -> {
            if (!excluded.contains(key)) {
                labels.put(key, value);
            }
        });
        labels.put(KedaKeys.SCALED_OBJECT_LABEL, spec.name());
        ObjectNode annotations = meta.putObject("annotations");
        spec.annotations().forEach(annotations::put);
        controllingOwner(meta, "ScaledObject", spec.name(), ownerUid);

        ObjectNode hpaSpec = hpa.putObject("spec");
        ObjectNode ref = hpaSpec.putObject("scaleTargetRef");
        ref.put("apiVersion", spec.target().apiVersion());
        ref.put("kind", spec.target().kind());
        ref.put("name", spec.target().name());
        hpaSpec.put("minReplicas", spec.hpaMinReplicas());
        hpaSpec.put("maxReplicas", spec.maxReplicaCount());
        ArrayNode metricNodes = hpaSpec.putArray("metrics");
        for (Metric m : metrics) {
            ObjectNode node = metricNodes.addObject();
            node.put("type", m.type());
            ObjectNode target;
            if (m.type().equals("External")) {
                ObjectNode external = node.putObject("external");
                ObjectNode metric = external.putObject("metric");
                metric.put("name", m.name());
                metric.putObject("selector").putObject("matchLabels").put(KedaKeys.SCALED_OBJECT_LABEL, spec.name());
                target = external.putObject("target");
            } else if (m.type().equals("ContainerResource")) {
                ObjectNode resource = node.putObject("containerResource");
                resource.put("name", m.name());
                resource.put("container", m.container());
                target = resource.putObject("target");
            } else {
                ObjectNode resource = node.putObject("resource");
                resource.put("name", m.name());
                target = resource.putObject("target");
            }
            target.put("type", m.targetType());
            switch (m.targetType()) {
                case "Utilization" -> target.put("averageUtilization", Integer.parseInt(m.targetValue()));
                case "Value" -> target.put("value", m.targetValue());
                default -> target.put("averageValue", m.targetValue());
            }
        }
        if (spec.hpaBehavior() != null) {
            try {
                hpaSpec.set("behavior", JSON.readTree(spec.hpaBehavior()));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalArgumentException("advanced.horizontalPodAutoscalerConfig.behavior is not JSON", e);
            }
        }
        // paused-scale-in / paused-scale-out stop the HPA too, not only our own 0 <-> N writes: KEDA disables the
        // direction in the HPA's behavior.
        if (KedaBoolean.pausedScaleIn(spec.annotations())) {
            disable(hpaSpec, "scaleDown");
        }
        if (KedaBoolean.pausedScaleOut(spec.annotations())) {
            disable(hpaSpec, "scaleUp");
        }
        annotations.put(SPEC_HASH, hash(hpa));
        return hpa;
    }

    /**
     * Sets a direction's selectPolicy to Disabled. The apiserver wants at least one policy in a rule it is given, so a
     * rule without any gets Kubernetes' own default (100 % per 15 s), which a disabled direction never applies.
     */
    private static void disable(ObjectNode hpaSpec, String direction) {
        ObjectNode behavior = hpaSpec.has("behavior") && hpaSpec.get("behavior").isObject()
                ? (ObjectNode) hpaSpec.get("behavior") : hpaSpec.putObject("behavior");
        ObjectNode rule = behavior.has(direction) && behavior.get(direction).isObject()
                ? (ObjectNode) behavior.get(direction) : behavior.putObject(direction);
        rule.put("selectPolicy", "Disabled");
        if (!rule.path("policies").isArray() || rule.path("policies").isEmpty()) {
            rule.putArray("policies").addObject().put("type", "Percent").put("value", 100).put("periodSeconds", 15);
        }
    }

    /** Sets {@code metadata.ownerReferences} to the keda.sh object that controls it and blocks its deletion. */
    static void controllingOwner(ObjectNode metadata, String kind, String name, String uid) {
        ObjectNode owner = metadata.putArray("ownerReferences").addObject();
        owner.put("apiVersion", KedaKeys.GROUP + "/" + KedaKeys.VERSION);
        owner.put("kind", kind);
        owner.put("name", name);
        owner.put("uid", uid);
        owner.put("controller", true);
        owner.put("blockOwnerDeletion", true);
    }

    /** A digest of everything we set, so an unchanged HPA is never rewritten (the apiserver adds defaults to it). */
    public static String hash(JsonNode hpa) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            ObjectNode annotations = hpa.path("metadata").path("annotations").isObject()
                    ? ((ObjectNode) hpa.path("metadata").path("annotations")).deepCopy() : JSON.createObjectNode();
            annotations.remove(SPEC_HASH);
            String canonical = JSON.writeValueAsString(hpa.path("spec")) + JSON.writeValueAsString(hpa.path("metadata").path("labels"))
                    + JSON.writeValueAsString(annotations) + JSON.writeValueAsString(hpa.path("metadata").path("ownerReferences"));
            return HexFormat.of().formatHex(digest.digest(canonical.getBytes(StandardCharsets.UTF_8))).substring(0, 16);
        } catch (NoSuchAlgorithmException | com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
