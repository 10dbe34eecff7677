package dev.lagscaler.controller;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lagscaler.KedaKeys;
import dev.lagscaler.feed.v1.MetricUpdate;
import dev.lagscaler.metrics.MetricsSink;
import dev.lagscaler.plan.Plan;
import dev.lagscaler.scaling.ScaledObjectSpec;
import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.extended.event.EventType;
import io.kubernetes.client.extended.event.legacy.EventRecorder;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.models.V1DeleteOptions;
import io.kubernetes.client.openapi.models.V1Preconditions;
import io.kubernetes.client.openapi.apis.AutoscalingV2Api;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import io.kubernetes.client.openapi.models.V1ObjectReference;
import io.kubernetes.client.openapi.models.V2HorizontalPodAutoscaler;
import io.kubernetes.client.util.PatchUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out a {@link Plan}, one small step per kind of write, in the order users wait on: the replica write
 * first (activation latency), then the HPA, the status, the Events and the adapter's values. Each write is
 * conditional on the version read (resourceVersion), so a conflict fails the pass and the reconcile requeues.
 */
final class PlanApplier {
    private static final Logger LOG = LoggerFactory.getLogger(PlanApplier.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ApiClient client;
    private final AutoscalingV2Api autoscaling;
    private final CustomObjectsApi customObjects;
    private final ScaleTargets targets;
    private final EventRecorder events;
    private final MetricsSink metrics;

    PlanApplier(ApiClient client, ScaleTargets targets, EventRecorder events, MetricsSink metrics) {
        this.client = client;
        this.autoscaling = new AutoscalingV2Api(client);
        this.customObjects = new CustomObjectsApi(client);
        this.targets = targets;
        this.events = events;
        this.metrics = metrics;
    }

    /**
     * The ScaledObject being reconciled, as read from the cache; {@code spec} and {@code target} are null when it did
     * not parse or its target is missing (such plans write only status and Events).
     */
    record Subject(String namespace, String name, String uid, String resourceVersion, ScaledObjectSpec spec,
                   ScaleTargets.Target target) {
    }

    void apply(Subject so, Plan plan) throws ApiException {
        if (plan.replicaWrite() != null) {
            try {
                targets.write(so.namespace(), so.spec().target(), so.target(), plan.replicaWrite());
            } catch (ApiException e) {
                if (!ApiErrors.isConflict(e)) {
                    // KEDA's Event for a scale write that failed; a lost race is retried at once and says nothing.
                    boolean up = plan.replicaWrite() > so.target().replicas();
                    event(so.namespace(), so.name(), so.uid(), new Plan.Event("Warning", up
                            ? "KEDAScaleTargetActivationFailed" : "KEDAScaleTargetDeactivationFailed",
                            "Failed to scale " + so.spec().target().kind() + " " + so.namespace() + "/"
                                    + so.spec().target().name() + " from " + so.target().replicas() + " to "
                                    + plan.replicaWrite() + ": " + ApiErrors.message(e)));
                }
                throw e;
            }
            LOG.info("scaled from {} to {}: {}", so.target().replicas(), plan.replicaWrite(), plan.reason());
        }
        if (!(plan.hpa() instanceof Plan.HpaChange.None)) {
            applyHpa(so.spec(), plan.hpa());
        }
        for (Plan.HpaChange.Delete former : plan.formerHpas()) {
            applyHpa(so.spec(), former);
        }
        if (plan.status() != null) {
            writeStatus(so.namespace(), so.name(), so.resourceVersion(), plan.status());
        }
        for (Plan.Event e : plan.events()) {
            event(so.namespace(), so.name(), so.uid(), e);
        }
        publish(so.namespace(), so.name(), plan.metrics());
    }

    /** Sends the object's values to the adapter's feed. */
    void publish(String namespace, String name, java.util.List<Plan.MetricValue> values) {
        for (Plan.MetricValue v : values) {
            metrics.publish(update(namespace, name, v));
        }
    }

    /**
     * The apiserver refused the HPA the object asks for as invalid (422): the object's
     * {@code advanced.horizontalPodAutoscalerConfig} is passed through as written (the CRD leaves it unchecked), so
     * this is the user's input to fix, not a conflict to retry at once.
     */
    static final class HpaRejected extends RuntimeException {
        HpaRejected(String hpaName, String apiserverMessage) {
            super("the apiserver rejected HPA " + hpaName + ": " + apiserverMessage);
        }
    }

    void applyHpa(ScaledObjectSpec spec, Plan.HpaChange change) throws ApiException {
        if (change instanceof Plan.HpaChange.Delete delete) {
            try {
                autoscaling.deleteNamespacedHorizontalPodAutoscaler(delete.name(), spec.namespace())
                        .body(new V1DeleteOptions().preconditions(new V1Preconditions().uid(delete.uid()))).execute();
                LOG.info("hpa {} deleted", delete.name());
            } catch (ApiException e) {
                // 404: already gone; 409: the name now holds another HPA (its uid differs), which is not ours to delete.
                if (e.getCode() == 409) {
                    LOG.info("hpa {} not deleted: it is no longer the one this object owned", delete.name());
                } else if (e.getCode() != 404) {
                    throw e;
                }
            }
            return;
        }
        try {
            if (change instanceof Plan.HpaChange.Create c) {
                autoscaling.createNamespacedHorizontalPodAutoscaler(spec.namespace(), hpa(c.desired())).execute();
                LOG.info("hpa {} created", spec.hpaName());
            } else if (change instanceof Plan.HpaChange.Update u) {
                autoscaling.replaceNamespacedHorizontalPodAutoscaler(spec.hpaName(), spec.namespace(), hpa(u.desired())).execute();
                LOG.info("hpa {} updated", spec.hpaName());
            }
        } catch (ApiException e) {
            if (e.getCode() == 422) {
                throw new HpaRejected(spec.hpaName(), ApiErrors.message(e));
            }
            if (ApiErrors.isAlreadyExists(e)) {
                throw new HpaAlreadyExists(spec.hpaName());
            }
            throw e;
        }
    }

    /**
     * A create found an HPA of that name that the caches did not hold yet. Never a lost race to retry blindly: the
     * reconcile reads it and plans again with it (adopting it when it is this object's).
     */
    static final class HpaAlreadyExists extends RuntimeException {
        HpaAlreadyExists(String hpaName) {
            super("HPA " + hpaName + " already exists");
        }
    }

    /** The HPA as the apiserver has it now, or null when there is none. */
    V2HorizontalPodAutoscaler readHpa(String namespace, String name) throws ApiException {
        try {
            return autoscaling.readNamespacedHorizontalPodAutoscaler(name, namespace).execute();
        } catch (ApiException e) {
            if (e.getCode() == 404) {
                return null;
            }
            throw e;
        }
    }

    private void writeStatus(String namespace, String name, String resourceVersion, ObjectNode status) throws ApiException {
        writeStatus(client, KedaKeys.SCALED_OBJECTS, namespace, name, resourceVersion, status);
    }

    /**
     * Replaces the status subresource of a keda.sh object ({@code plural}: scaledobjects, scaledjobs), tested against
     * the resourceVersion read (a JSON patch's test operation).
     */
    static void writeStatus(ApiClient client, String plural, String namespace, String name, String resourceVersion,
                            ObjectNode status) throws ApiException {
        ArrayNode patch = JSON.createArrayNode();
        patch.addObject().put("op", "test").put("path", "/metadata/resourceVersion").put("value", resourceVersion);
        patch.addObject().put("op", "add").put("path", "/status").set("value", status);
        PatchUtils.patch(Object.class, () -> new CustomObjectsApi(client).patchNamespacedCustomObjectStatus(KedaKeys.GROUP,
                KedaKeys.VERSION, namespace, plural, name, new V1Patch(patch.toString())).buildCall(null),
                V1Patch.PATCH_FORMAT_JSON_PATCH, client);
    }

    /** Sets metadata.finalizers, tested against the resourceVersion read. */
    void writeFinalizers(String namespace, String name, String resourceVersion, JsonNode finalizers) throws ApiException {
        ArrayNode patch = JSON.createArrayNode();
        patch.addObject().put("op", "test").put("path", "/metadata/resourceVersion").put("value", resourceVersion);
        patch.addObject().put("op", "add").put("path", "/metadata/finalizers").set("value", finalizers);
        PatchUtils.patch(Object.class, () -> customObjects.patchNamespacedCustomObject(KedaKeys.GROUP, KedaKeys.VERSION,
                namespace, KedaKeys.SCALED_OBJECTS, name, new V1Patch(patch.toString())).buildCall(null),
                V1Patch.PATCH_FORMAT_JSON_PATCH, client);
    }

    /** Through client-java-extended's recorder: it aggregates repeats into one Event with a count. */
    void event(String namespace, String name, String uid, Plan.Event e) {
        record(events, "ScaledObject", namespace, name, uid, e);
    }

    /** One Event on a keda.sh object of {@code kind} (ScaledObject, ScaledJob). */
    static void record(EventRecorder events, String kind, String namespace, String name, String uid, Plan.Event e) {
        V1ObjectReference ref = new V1ObjectReference().apiVersion(KedaKeys.GROUP + "/" + KedaKeys.VERSION)
                .kind(kind).namespace(namespace).name(name).uid(uid);
        events.event(ref, e.type().equals("Warning") ? EventType.Warning : EventType.Normal, e.reason(), "%s", e.message());
    }

    private V2HorizontalPodAutoscaler hpa(ObjectNode desired) {
        return client.getJSON().deserialize(desired.toString(), V2HorizontalPodAutoscaler.class);
    }

    private static MetricUpdate update(String namespace, String name, Plan.MetricValue v) {
        MetricUpdate.Builder b = MetricUpdate.newBuilder().setNamespace(namespace).setScaledObject(name)
                .setMetricName(v.metricName()).setTimestampMillis(v.at().toEpochMilli())
                .setStaleAfterMillis(v.staleAfter().toMillis());
        if (v.valueMilli() != null) {
            b.setValueMilli(v.valueMilli()).setFallback(v.fallback());
        } else {
            b.setError(v.error());
        }
        return b.build();
    }
}
