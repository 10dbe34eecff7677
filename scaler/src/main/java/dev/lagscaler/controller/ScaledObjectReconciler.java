package dev.lagscaler.controller;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.lagscaler.KedaKeys;
import dev.lagscaler.metrics.MetricsSink;
import dev.lagscaler.metrics.OperatorMetrics;
import dev.lagscaler.plan.DeletionPlanner;
import dev.lagscaler.plan.HpaBuilder;
import dev.lagscaler.plan.Plan;
import dev.lagscaler.plan.PlanInput;
import dev.lagscaler.plan.ReconcilePlanner;
import dev.lagscaler.plan.ResolvedTrigger;
import dev.lagscaler.plan.TargetClaims;
import dev.lagscaler.plan.Triggers;
import dev.lagscaler.scaling.ScaledObjectInvalid;
import dev.lagscaler.scaling.ScaledObjectParser;
import dev.lagscaler.scaling.ScaledObjectSpec;
import io.kubernetes.client.extended.controller.reconciler.Reconciler;
import io.kubernetes.client.extended.controller.reconciler.Request;
import io.kubernetes.client.extended.controller.reconciler.Result;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.models.V1OwnerReference;
import io.kubernetes.client.openapi.models.V2HorizontalPodAutoscaler;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Reconciles one ScaledObject in three steps: read (the informer caches, the lag engine's latest results, Secrets
 * only when a trigger references them), decide ({@link ReconcilePlanner}, pure), act ({@link PlanApplier}). Level-
 * triggered; every log line of a pass carries the object and a reconcile id as fields.
 */
final class ScaledObjectReconciler implements Reconciler {
    private static final Logger LOG = LoggerFactory.getLogger(ScaledObjectReconciler.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ClusterCaches caches;
    private final TriggerRegistry registry;
    private final AuthResolver auth;
    private final ScaleTargets targets;
    private final PlanApplier applier;
    private final OperatorConfig config;
    private final Clock clock;
    private final MetricsSink metrics;
    private final OperatorMetrics observed;
    private final AtomicLong passes = new AtomicLong();
    private final Ownership ownership;
    /** With server-side sharding, the other shards' ScaledObjects on a target; null when every one is cached. */
    private final CrossShardClaims claims;
    /** The input of each object's last reconcile, for serving fresher values between reconciles (see serveFresh). */
    private final Map<String, PlanInput> lastInputs = new java.util.concurrent.ConcurrentHashMap<>();

    ScaledObjectReconciler(ClusterCaches caches, TriggerRegistry registry, AuthResolver auth, ScaleTargets targets, PlanApplier applier,
                           OperatorConfig config, Clock clock, MetricsSink metrics, OperatorMetrics observed,
                           Ownership ownership, CrossShardClaims claims) {
        this.ownership = ownership;
        this.claims = claims;
        this.observed = observed;
        this.caches = caches;
        this.registry = registry;
        this.auth = auth;
        this.targets = targets;
        this.applier = applier;
        this.config = config;
        this.clock = clock;
        this.metrics = metrics;
    }

    @Override
    public Result reconcile(Request request) {
        String key = request.getNamespace() + "/" + request.getName();
        MDC.put("scaledobject", key);
        MDC.put("reconcile", Long.toString(passes.incrementAndGet()));
        long started = System.nanoTime();
        String failed = null;
        try {
            JsonNode so = caches.scaledObject(key);
            if (so == null) {
                forgetAll(key, request);
                return new Result(false);
            }
            try (Ownership.Pass pass = ownership.enter(so.path("metadata").path("uid").asText())) {
                if (pass.fenced()) {
                    return new Result(true, Ownership.FENCED_RETRY);
                }
                if (!pass.held()) {
                    // Another replica's (or nobody's yet): stop measuring and serving it; write nothing.
                    forgetAll(key, request);
                    return new Result(false);
                }
                if (so.path("metadata").hasNonNull("deletionTimestamp")) {
                    finalizeDeletion(key, so);
                    return new Result(false);
                }
                if (addFinalizer(so)) {
                    return new Result(false); // the finalizer's watch event brings the object back with its new version
                }
                return reconcileLive(key, so);
            }
        } catch (ApiException e) {
            // Every failed pass goes back through the queue's rate limiter: per object, 200 ms doubling to 5 min,
            // forgotten after a pass that succeeds.
            boolean conflict = ApiErrors.isConflict(e);
            failed = conflict ? "conflict" : "apiserver";
            if (conflict) {
                LOG.info("changed since read (HTTP {}): requeued", e.getCode());
            } else {
                LOG.warn("apiserver call failed (HTTP {}): {}; requeued with backoff", e.getCode(), ApiErrors.message(e));
            }
            return new Result(true);
        } catch (AuthResolver.TransientReadException e) {
            failed = "apiserver";
            LOG.warn("{}; its triggers stay registered, requeued with backoff", e.getMessage());
            return new Result(true);
        } catch (RuntimeException e) {
            failed = "crash";
            LOG.error("reconcile crashed: {}", e.toString(), e);
            return new Result(true);
        } finally {
            observed.reconcile(Duration.ofNanos(System.nanoTime() - started), failed);
            MDC.remove("scaledobject");
            MDC.remove("reconcile");
        }
    }

    private void forgetAll(String key, Request request) {
        forget(key);
        metrics.removeObject(request.getNamespace(), request.getName());
        observed.removeObject(request.getNamespace(), request.getName());
    }

    /**
     * Serves the object's values from its latest poll results without a reconcile: its last reconcile's input with
     * the newer results (the decision stays the last reconcile's; anything that could change it wakes a reconcile).
     */
    void serveFresh(String key) {
        PlanInput last = lastInputs.get(key);
        if (last == null) {
            return;
        }
        try {
            String[] parts = key.split("/", 2);
            applier.publish(parts[0], parts[1], ReconcilePlanner.servedValues(last.withHealth(registry.snapshot(key),
                    clock.instant())));
        } catch (RuntimeException e) {
            LOG.atWarn().addKeyValue("scaledobject", key).addKeyValue("error", e.toString()).log("fresh values not served");
        }
    }

    /** Reconcile passes started so far. */
    long passes() {
        return passes.get();
    }

    private Result reconcileLive(String key, JsonNode so) throws ApiException {
        String namespace = so.path("metadata").path("namespace").asText();
        String name = so.path("metadata").path("name").asText();
        String uid = so.path("metadata").path("uid").asText();
        String version = so.path("metadata").path("resourceVersion").asText();
        JsonNode status = so.path("status");
        ScaledObjectSpec spec;
        try {
            spec = ScaledObjectParser.parse(so);
        } catch (ScaledObjectInvalid e) {
            forget(key);
            metrics.removeObject(namespace, name);
            observed.removeObject(namespace, name);
            return apply(new PlanApplier.Subject(namespace, name, uid, version, null, null),
                    ReconcilePlanner.notReady(status, e.reason(), e.getMessage(), clock.instant(), null));
        }
        List<TargetClaims.SeenHpa> around = caches.hpasAround(namespace, spec.target().kind(), spec.target().name(),
                spec.hpaName(), uid);
        List<TargetClaims.OtherScaledObject> others = new java.util.ArrayList<>(caches.scaledObjectsOn(namespace,
                spec.target().kind(), spec.target().name(), name));
        if (claims != null) {
            // Cached is only this replica's share: the others on the target may be another's.
            others.addAll(claims.others(namespace, name, uid, spec.createdAt(), spec.target().kind(), spec.target().name()));
        }
        Optional<String> conflict = TargetClaims.conflict(spec, uid, others, around);
        if (conflict.isPresent()) {
            // Nothing is written but the status: the object waits for the HPA or ScaledObject in its way to go (their
            // watch events wake it), with no retry loop.
            forget(key);
            metrics.removeObject(namespace, name);
            observed.removeObject(namespace, name);
            return apply(new PlanApplier.Subject(namespace, name, uid, version, spec, null),
                    ReconcilePlanner.notReady(status, "ScaledObjectCheckFailed", conflict.get(), clock.instant(), null));
        }
        ScaleTargets.Target target = targets.read(namespace, spec.target());
        if (target == null) {
            String message = spec.target().kind() + " " + spec.target().name() + " not found, or it serves no /scale";
            return apply(new PlanApplier.Subject(namespace, name, uid, version, spec, null),
                    ReconcilePlanner.notReady(status, "ScaleTargetNotFound", message, clock.instant(), Duration.ofSeconds(10)));
        }

        List<ResolvedTrigger> triggers = Triggers.resolveAll(spec, new ClusterContext(auth, namespace, target.podTemplate(),
                spec.target().envSourceContainerName()));
        Map<Integer, TriggerRegistry.Wanted> kafka = new HashMap<>();
        triggers.stream().filter(t -> t instanceof ResolvedTrigger.Kafka).forEach(t -> kafka.put(t.index(),
                new TriggerRegistry.Wanted(((ResolvedTrigger.Kafka) t).settings(),
                        spec.triggers().get(t.index()).scalerName())));
        boolean started = registry.sync(key, kafka,
                ReconcilePlanner.pollInterval(spec, target.replicas(), config.fastActivationInterval()));

        List<TargetClaims.SeenHpa> former = TargetClaims.formerHpas(spec, uid, around);
        PlanInput input = new PlanInput(spec, uid, status, target.replicas(),
                existingHpa(hpas(namespace + "/" + spec.hpaName()), uid), triggers, registry.snapshot(key),
                config.fastActivationInterval(), clock.instant(), registry.wakeUp(config.wakeUpConsumer()), former);
        Plan plan = ReconcilePlanner.plan(input);
        if (started) {
            plan = plan.withEvent(new Plan.Event("Normal", "KEDAScalersStarted", "Started scalers watch"));
        }
        Result result;
        try {
            try {
                // Waking from zero: the replica write now, the status in a pass queued behind the other wake-ups.
                Plan now = plan.activates(target.replicas()) && !started ? plan.activationFirst(ACTIVATION_STATUS_AFTER) : plan;
                result = apply(new PlanApplier.Subject(namespace, name, uid, version, spec, target), now);
            } catch (PlanApplier.HpaAlreadyExists e) {
                // The caches had not seen it yet: read it and plan once more with it, in this same pass.
                V2HorizontalPodAutoscaler live = applier.readHpa(namespace, spec.hpaName());
                Optional<String> clash = live == null ? Optional.empty()
                        : TargetClaims.conflict(spec, uid, List.of(), List.of(ClusterCaches.seen(live)));
                if (clash.isPresent()) {
                    forget(key);
                    return apply(new PlanApplier.Subject(namespace, name, uid, version, spec, null),
                            ReconcilePlanner.notReady(status, "ScaledObjectCheckFailed", clash.get(), clock.instant(), null));
                }
                plan = ReconcilePlanner.plan(new PlanInput(spec, uid, status, target.replicas(), existingHpa(live, uid),
                        triggers, input.health(), input.fastInterval(), input.now(), input.wakeUp(), former));
                result = apply(new PlanApplier.Subject(namespace, name, uid, version, spec, target), plan.withoutReplicaWrite());
            }
        } catch (PlanApplier.HpaRejected e) {
            // Before the status write (the plan writes it last), so the same version still holds.
            return apply(new PlanApplier.Subject(namespace, name, uid, version, spec, target), ReconcilePlanner.notReady(
                    status, "ScaledObjectCheckFailed", e.getMessage(), clock.instant(), Duration.ofSeconds(30)));
        } finally {
            // The triggers follow the plan whether or not every write went through: a failed write is retried, and
            // meanwhile the polling matches what was decided.
            registry.follow(key, plan.pollInterval(), plan.decision() != null && plan.decision().atZero(),
                    config.wakeUpConsumer(), Duration.ofSeconds(spec.pollingIntervalSeconds()));
        }
        lastInputs.put(key, input.forServing());
        V2HorizontalPodAutoscaler hpa = hpas(namespace + "/" + spec.hpaName());
        Integer hpaDesired = hpa == null || hpa.getStatus() == null ? null : hpa.getStatus().getDesiredReplicas();
        observed.reconciled(namespace, name, spec.minReplicaCount(), spec.maxReplicaCount(), target.replicas(),
                hpaDesired, plan, status, i -> i < spec.triggers().size() ? spec.triggers().get(i).scalerName() : "kafkaScaler",
                resourceTriggers(spec));
        return result;
    }

    /** When the pass that writes an activation's status follows the one that wrote its replicas. */
    static final Duration ACTIVATION_STATUS_AFTER = Duration.ofSeconds(1);

    /** The cpu and memory triggers by index (none when scalingModifiers fold them into a formula, as KEDA counts). */
    private static Map<Integer, String> resourceTriggers(ScaledObjectSpec spec) {
        Map<Integer, String> resources = new java.util.TreeMap<>();
        if (spec.scalingModifiers() == null) {
            for (int i = 0; i < spec.triggers().size(); i++) {
                if (spec.triggers().get(i).isResource()) {
                    resources.put(i, spec.triggers().get(i).type());
                }
            }
        }
        return resources;
    }

    private Result apply(PlanApplier.Subject subject, Plan plan) throws ApiException {
        applier.apply(subject, plan);
        plan.events().stream().filter(e -> e.type().equals("Warning"))
                .forEach(e -> LOG.warn("{}: {}", e.reason(), e.message()));
        return plan.requeueAfter() == null ? new Result(false) : new Result(true, plan.requeueAfter());
    }

    /** The object's triggers leave the engine, and its remembered input goes with them. */
    private void forget(String key) {
        registry.remove(key);
        lastInputs.remove(key);
    }

    private V2HorizontalPodAutoscaler hpas(String key) {
        return caches.hpa(key);
    }

    private static PlanInput.ExistingHpa existingHpa(V2HorizontalPodAutoscaler hpa, String uid) {
        if (hpa == null) {
            return null;
        }
        List<V1OwnerReference> owners = hpa.getMetadata().getOwnerReferences();
        boolean owned = owners != null && owners.stream().anyMatch(o -> uid.equals(o.getUid()));
        Map<String, String> annotations = hpa.getMetadata().getAnnotations();
        JsonNode spec;
        try {
            spec = JSON.readTree(io.kubernetes.client.openapi.JSON.serialize(hpa.getSpec()));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            spec = null;
        }
        return new PlanInput.ExistingHpa(owned, annotations == null ? null : annotations.get(HpaBuilder.SPEC_HASH),
                hpa.getMetadata().getResourceVersion(), hpa.getMetadata().getUid(), spec);
    }

    /** Adds our finalizer when missing; returns whether it wrote. */
    private boolean addFinalizer(JsonNode so) throws ApiException {
        ArrayNode finalizers = JSON.createArrayNode();
        for (JsonNode f : so.path("metadata").path("finalizers")) {
            if (f.asText().equals(KedaKeys.FINALIZER)) {
                return false;
            }
            finalizers.add(f);
        }
        finalizers.add(KedaKeys.FINALIZER);
        applier.writeFinalizers(so.path("metadata").path("namespace").asText(), so.path("metadata").path("name").asText(),
                so.path("metadata").path("resourceVersion").asText(), finalizers);
        return true;
    }

    /** Finalizing a deleted object: read (its spec, the HPAs around it), plan ({@link DeletionPlanner}), apply. */
    private void finalizeDeletion(String key, JsonNode so) throws ApiException {
        String namespace = so.path("metadata").path("namespace").asText();
        String name = so.path("metadata").path("name").asText();
        forget(key);
        metrics.removeObject(namespace, name);
        observed.removeObject(namespace, name);
        ScaledObjectSpec spec;
        try {
            spec = ScaledObjectParser.parse(so);
        } catch (ScaledObjectInvalid e) {
            spec = null; // nothing of ours can exist for an object that never parsed
        }
        List<TargetClaims.SeenHpa> around = spec == null ? List.of() : caches.hpasAround(namespace,
                spec.target().kind(), spec.target().name(), spec.hpaName(), so.path("metadata").path("uid").asText());
        DeletionPlanner.DeletionPlan plan = DeletionPlanner.plan(so, spec, around);
        for (Plan.HpaChange.Delete delete : plan.hpaDeletes()) {
            applier.applyHpa(spec, delete);
        }
        if (plan.restoreReplicas() != null) {
            targets.writeFresh(namespace, spec.target(), plan.restoreReplicas());
            LOG.info("restored to {} replicas", plan.restoreReplicas());
        }
        if (plan.remainingFinalizers() != null) {
            ArrayNode remaining = JSON.createArrayNode();
            plan.remainingFinalizers().forEach(remaining::add);
            applier.writeFinalizers(namespace, name, so.path("metadata").path("resourceVersion").asText(), remaining);
            applier.event(namespace, name, so.path("metadata").path("uid").asText(), plan.event());
            LOG.info("finalized");
        }
    }
}
