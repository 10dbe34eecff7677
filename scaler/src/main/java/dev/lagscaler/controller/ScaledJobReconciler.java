package dev.lagscaler.controller;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lagscaler.KedaKeys;
import dev.lagscaler.plan.JobPlanner;
import dev.lagscaler.plan.Plan;
import dev.lagscaler.plan.ResolvedTrigger;
import dev.lagscaler.plan.TriggerType;
import dev.lagscaler.plan.Triggers;
import dev.lagscaler.scaling.ScaledJobParser;
import dev.lagscaler.scaling.ScaledJobSpec;
import dev.lagscaler.scaling.ScaledObjectInvalid;
import dev.lagscaler.trigger.KafkaTriggerSettings;
import io.kubernetes.client.extended.controller.reconciler.Reconciler;
import io.kubernetes.client.extended.controller.reconciler.Request;
import io.kubernetes.client.extended.controller.reconciler.Result;
import io.kubernetes.client.extended.event.legacy.EventRecorder;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.BatchV1Api;
import io.kubernetes.client.openapi.models.V1DeleteOptions;
import io.kubernetes.client.openapi.models.V1Job;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Reconciles one ScaledJob on the ScaledObject's shape: read (the caches, the lag engine's results through its own
 * {@link TriggerRegistry}, Secrets when a trigger references them), decide ({@link JobPlanner}, pure), act (create
 * Jobs, delete Jobs past the history limits or of an older template, write the status, record Events).
 */
final class ScaledJobReconciler implements Reconciler {
    private static final Logger LOG = LoggerFactory.getLogger(ScaledJobReconciler.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The registry's key of a ScaledJob, apart from the ScaledObjects': "namespace/sj:name". */
    static final String KEY_PREFIX = dev.lagscaler.metrics.OperatorMetrics.SCALED_JOB_PREFIX;

    private final ScaledJobCaches caches;
    private final TriggerRegistry registry;
    private final AuthResolver auth;
    private final ApiClient client;
    private final EventRecorder events;
    private final OperatorConfig config;
    private final Clock clock;
    private final dev.lagscaler.metrics.OperatorMetrics observed;
    private final Ownership ownership;

    ScaledJobReconciler(ScaledJobCaches caches, TriggerRegistry registry, AuthResolver auth, ApiClient client,
                        EventRecorder events, OperatorConfig config, Clock clock,
                        dev.lagscaler.metrics.OperatorMetrics observed, Ownership ownership) {
        this.ownership = ownership;
        this.observed = observed;
        this.caches = caches;
        this.registry = registry;
        this.auth = auth;
        this.client = client;
        this.events = events;
        this.config = config;
        this.clock = clock;
    }

    @Override
    public Result reconcile(Request request) {
        String key = request.getNamespace() + "/" + request.getName();
        String registryKey = request.getNamespace() + "/" + KEY_PREFIX + request.getName();
        MDC.put("scaledjob", key);
        try {
            JsonNode sj = caches.scaledJob(key);
            if (sj == null) {
                registry.remove(registryKey); // its Jobs go with it (ownerReferences)
                observed.removeObject(request.getNamespace(), KEY_PREFIX + request.getName());
                return new Result(false);
            }
            try (Ownership.Pass pass = ownership.enter(sj.path("metadata").path("uid").asText())) {
                if (pass.fenced()) {
                    return new Result(true, Ownership.FENCED_RETRY);
                }
                if (!pass.held()) {
                    registry.remove(registryKey); // another replica's: it measures and acts on it
                    observed.removeObject(request.getNamespace(), KEY_PREFIX + request.getName());
                    return new Result(false);
                }
                return reconcileLive(key, registryKey, sj);
            }
        } catch (ApiException e) {
            if (ApiErrors.isConflict(e)) {
                LOG.info("changed since read (HTTP {}): requeued", e.getCode());
            } else {
                LOG.warn("apiserver call failed (HTTP {}): {}; requeued with backoff", e.getCode(), ApiErrors.message(e));
            }
            return new Result(true);
        } catch (AuthResolver.TransientReadException e) {
            LOG.warn("{}; requeued with backoff", e.getMessage());
            return new Result(true);
        } catch (RuntimeException e) {
            LOG.error("reconcile crashed: {}", e.toString(), e);
            return new Result(true);
        } finally {
            MDC.remove("scaledjob");
        }
    }

    private Result reconcileLive(String key, String registryKey, JsonNode sj) throws ApiException {
        String namespace = sj.path("metadata").path("namespace").asText();
        String name = sj.path("metadata").path("name").asText();
        String uid = sj.path("metadata").path("uid").asText();
        String version = sj.path("metadata").path("resourceVersion").asText();
        JsonNode status = sj.path("status");
        ScaledJobSpec spec;
        Map<Integer, KafkaTriggerSettings> kafka = new HashMap<>();
        try {
            spec = ScaledJobParser.parse(sj);
            TriggerType.Context context = new ClusterContext(auth, namespace, () -> template(spec),
                    spec.envSourceContainerName());
            for (int i = 0; i < spec.triggers().size(); i++) {
                ResolvedTrigger t = Triggers.resolve(i, spec.triggers().get(i), context);
                if (t instanceof ResolvedTrigger.Kafka k) {
                    kafka.put(i, k.settings());
                } else if (t instanceof ResolvedTrigger.Invalid invalid) {
                    throw new ScaledObjectInvalid("ScaledJobCheckFailed", "trigger " + i + " (" + t.type() + "): "
                            + invalid.message());
                } else {
                    throw new ScaledObjectInvalid("UnsupportedTrigger", "trigger " + i + " has type \"" + t.type()
                            + "\": lagscaler's ScaledJobs scale on kafka triggers");
                }
            }
        } catch (ScaledObjectInvalid e) {
            registry.remove(registryKey);
            observed.removeObject(namespace, KEY_PREFIX + name);
            apply(namespace, name, uid, version, null, JobPlanner.notReady(status, e.reason(), e.getMessage(), clock.instant()),
                    new int[1]);
            return new Result(false);
        }
        Map<Integer, TriggerRegistry.Wanted> wanted = new HashMap<>();
        kafka.forEach((i, s) -> wanted.put(i, new TriggerRegistry.Wanted(s, spec.triggers().get(i).scalerName())));
        registry.sync(registryKey, wanted, Duration.ofSeconds(spec.pollingIntervalSeconds()));

        List<JobPlanner.ExistingJob> jobs = JobReads.existing(client, namespace, caches.jobsOf(key),
                spec.scalingStrategy().pendingPodConditions());
        JobPlanner.JobPlan plan = JobPlanner.plan(new JobPlanner.JobPlanInput(spec, uid, status, jobs, kafka,
                registry.snapshot(registryKey), config.fastActivationInterval(), clock.instant()));
        int[] created = {0};
        try {
            apply(namespace, name, uid, version, spec, plan, created);
        } finally {
            observed.scaledJobReconciled(namespace, name, jobs, plan, created[0], status);
            registry.follow(registryKey, plan.pollInterval(), plan.idle(), config.wakeUpConsumer(),
                    Duration.ofSeconds(spec.pollingIntervalSeconds()));
        }
        // Jobs that finish wake it (the Job informer); the trigger results wake it; pollingInterval is the safety net.
        return new Result(true, Duration.ofSeconds(spec.pollingIntervalSeconds()));
    }

    /** Carries out the plan; {@code created[0]} counts the Jobs made, also when a later write fails. */
    private void apply(String namespace, String name, String uid, String version, ScaledJobSpec spec,
                       JobPlanner.JobPlan plan, int[] created) throws ApiException {
        BatchV1Api batch = new BatchV1Api(client);
        for (int i = 0; i < plan.create(); i++) {
            try {
                batch.createNamespacedJob(namespace, client.getJSON().deserialize(plan.job().toString(), V1Job.class)).execute();
                created[0]++;
            } catch (ApiException e) {
                event(namespace, name, uid, new Plan.Event("Warning", "KEDAJobCreateFailed",
                        "Failed to create job " + name + "-: " + ApiErrors.message(e)));
                throw e;
            }
        }
        if (created[0] > 0) {
            LOG.info("created {} jobs: {}", created[0], plan.decision().reason());
            event(namespace, name, uid, new Plan.Event("Normal", "KEDAJobsCreated", "Created " + created[0] + " jobs"));
        }
        for (String job : plan.delete()) {
            try {
                batch.deleteNamespacedJob(job, namespace).body(new V1DeleteOptions().propagationPolicy(
                        spec != null && spec.rollout().propagationPolicy().equals("foreground") ? "Foreground" : "Background"))
                        .execute();
                LOG.info("job {} deleted", job);
            } catch (ApiException e) {
                if (e.getCode() != 404) {
                    throw e;
                }
            }
        }
        if (plan.status() != null) {
            PlanApplier.writeStatus(client, KedaKeys.SCALED_JOBS, namespace, name, version, plan.status());
        }
        for (Plan.Event e : plan.events()) {
            event(namespace, name, uid, e);
        }
    }

    /** The pod template of jobTargetRef, for the env of the container the triggers read. */
    private static JsonNode template(ScaledJobSpec spec) {
        try {
            return JSON.readTree(spec.jobTemplate()).path("template");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("jobTargetRef is not JSON", e);
        }
    }

    private void event(String namespace, String name, String uid, Plan.Event e) {
        PlanApplier.record(events, "ScaledJob", namespace, name, uid, e);
    }
}
