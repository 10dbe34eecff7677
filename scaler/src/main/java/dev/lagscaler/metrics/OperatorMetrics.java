package dev.lagscaler.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lagscaler.lag.PartitionLag;
import dev.lagscaler.lag.PollStats;
import dev.lagscaler.lag.TriggerResult;
import dev.lagscaler.plan.JobPlanner;
import dev.lagscaler.plan.Plan;
import dev.lagscaler.trigger.KafkaTriggerSettings;
import dev.lagscaler.trigger.MetricNames;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.function.IntFunction;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * The operator's Prometheus metrics, named the Prometheus way (base units in the name, {@code _total} counters).
 * Per trigger: lag, lag per topic, the value sent to the HPA, active, poll errors, the last good poll; per partition
 * only when switched on (one series per partition of every trigger: see the README); per Kafka cluster: poll
 * duration, requests, connections; per ScaledObject: replicas and state; and the operator's own loop. KEDA's
 * names and labels ({@code keda_scaler_metrics_value}, ...) are kept beside ours so existing dashboards work.
 */
public final class OperatorMetrics {
    private static final String[] TRIGGER = {"namespace", "scaledobject", "trigger", "consumer_group"};
    /**
     * The client's defaults, without exemplars: nothing here records a trace id, and each data point's exemplar
     * sampler was about 10 MB of the heap at 3,000 ScaledObjects (78,000 data points).
     */
    private static final io.prometheus.metrics.config.PrometheusProperties WITHOUT_EXEMPLARS =
            io.prometheus.metrics.config.PrometheusProperties.builder().defaultMetricsProperties(
                    io.prometheus.metrics.config.MetricsProperties.builder().exemplarsEnabled(false).build()).build();
    private static final String[] KEDA_SCALER = {"namespace", "metric", "scaledObject", "scaler", "triggerIndex", "type"};
    private static final String[] KEDA_OBJECT = {"namespace", "scaledObject"};
    private static final String[] OBJECT = {"namespace", "scaledobject"};
    private static final String[] JOB = {"namespace", "scaledjob"};

    private final PrometheusRegistry registry;
    private final boolean partitionLag;
    /** The topics each trigger (by its labels) last reported, so a topic it stops reporting loses its series. */
    private final Map<List<String>, Set<String>> topicsReported = new java.util.concurrent.ConcurrentHashMap<>();
    /** The cpu and memory triggers' keda_scaler_active series of each object, as last written. */
    private final Map<List<String>, List<List<String>>> resourceSeries = new java.util.concurrent.ConcurrentHashMap<>();

    private final Gauge triggerLag;
    private final Gauge topicLag;
    private final Gauge partitionLagRecords;
    private final Gauge triggerActive;
    private final Gauge lagSeconds;
    private final Gauge consumerStatus;
    private final Gauge producedRate;
    private final Gauge consumedRate;
    private final Gauge lagThreshold;
    private final Gauge activationThreshold;
    private final Counter pollErrors;
    private final Gauge lastSuccess;
    private final Gauge metricValue;
    private final Gauge kedaMetricValue;
    private final Gauge kedaActive;
    private final Counter kedaDetailErrors;
    private final Counter kedaErrors;
    private final Counter kedaObjectErrors;
    private final Gauge kedaPaused;
    private final Gauge kedaLatency;
    /** KEDA's per-scaler label values of each trigger, by the Kafka cluster that polls it (for the latency gauge). */
    private final Map<String, Set<List<String>>> kedaLabelsByCluster = new java.util.concurrent.ConcurrentHashMap<>();

    private final Gauge currentReplicas;
    private final Gauge desiredReplicas;
    private final Gauge minReplicas;
    private final Gauge maxReplicas;
    private final Gauge objectState;
    private final Gauge lastActive;

    private final Gauge jobs;
    private final Counter jobsCreated;
    private final Gauge jobsQueueLength;
    private final Gauge jobsWanted;
    private final Gauge jobCondition;
    private final Counter kedaJobErrors;

    private final Histogram pollDuration;
    private final Counter kafkaRequests;
    private final Gauge requestsPerPoll;
    private final Counter polls;
    private final Gauge connections;
    private final Gauge connectionsCreated;

    private final Counter shardMoves;
    private final Histogram reconcileDuration;
    private final Counter reconcileErrors;
    private final Histogram queueLatency;
    private final Counter apiserverRequests;
    private final Counter apiserverBytes;

    public OperatorMetrics(PrometheusRegistry registry, boolean partitionLag) {
        this.registry = registry;
        this.partitionLag = partitionLag;
        triggerLag = Gauge.builder(WITHOUT_EXEMPLARS).name("lagscaler_trigger_lag_records")
                .help("Offset lag of the trigger's consumer group: records not yet committed, over the partitions it counts")
                .labelNames(TRIGGER).register(registry);
        topicLag = Gauge.builder(WITHOUT_EXEMPLARS).name("lagscaler_trigger_topic_lag_records").help("Offset lag per topic")
                .labelNames(append(TRIGGER, "topic")).register(registry);
        partitionLagRecords = Gauge.builder(WITHOUT_EXEMPLARS).name("lagscaler_partition_lag_records")
                .help("Offset lag per partition (only with --metrics-partition-lag: one series per partition)")
                .labelNames(append(append(TRIGGER, "topic"), "partition")).register(registry);
        triggerActive = Gauge.builder(WITHOUT_EXEMPLARS).name("lagscaler_trigger_active")
                .help("1 when the trigger's lag is above its activationLagThreshold").labelNames(TRIGGER).register(registry);
        lagSeconds = Gauge.builder(WITHOUT_EXEMPLARS).name("lagscaler_trigger_lag_seconds")
                .help("How long the oldest waiting record has waited, estimated from the log-end history of past polls;"
                        + " absent while the history does not reach back to a committed offset")
                .labelNames(TRIGGER).register(registry);
        consumerStatus = Gauge.builder(WITHOUT_EXEMPLARS).name("lagscaler_consumer_status")
                .help("The consumer group's health on the trigger's partitions, Burrow's states: 0 OK, 1 WARN (lag"
                        + " growing), 2 STALL (committed offset not moving while records wait), 3 STOP (not moving for"
                        + " long), 4 REWIND (committed offset moved back); absent until judged")
                .labelNames(TRIGGER).register(registry);
        producedRate = Gauge.builder(WITHOUT_EXEMPLARS).name("lagscaler_trigger_produced_records_per_second")
                .help("Records written to the trigger's partitions per second, over the consumer-health window")
                .labelNames(TRIGGER).register(registry);
        consumedRate = Gauge.builder(WITHOUT_EXEMPLARS).name("lagscaler_trigger_consumed_records_per_second")
                .help("Records the group committed on the trigger's partitions per second, over the consumer-health window")
                .labelNames(TRIGGER).register(registry);
        lagThreshold = Gauge.builder(WITHOUT_EXEMPLARS).name("lagscaler_trigger_lag_threshold_records")
                .help("The trigger's lagThreshold: the HPA's target per replica").labelNames(TRIGGER).register(registry);
        activationThreshold = Gauge.builder(WITHOUT_EXEMPLARS).name("lagscaler_trigger_activation_lag_threshold_records")
                .help("The trigger's activationLagThreshold").labelNames(TRIGGER).register(registry);
        pollErrors = Counter.builder(WITHOUT_EXEMPLARS).name("lagscaler_trigger_poll_errors_total")
                .help("Failed polls of the trigger by reason (BROKER_UNREACHABLE, AUTH_FAILED, TOPIC_MISSING, ...)")
                .labelNames(append(TRIGGER, "reason")).register(registry);
        lastSuccess = Gauge.builder(WITHOUT_EXEMPLARS).name("lagscaler_trigger_last_success_timestamp_seconds")
                .help("When the trigger was last measured; time() minus this is the age of its value")
                .labelNames(TRIGGER).register(registry);
        metricValue = Gauge.builder(WITHOUT_EXEMPLARS).name("lagscaler_trigger_metric_value")
                .help("The value served to the HPA for the metric (fallback values included)")
                .labelNames("namespace", "scaledobject", "metric", "fallback").register(registry);
        kedaMetricValue = Gauge.builder(WITHOUT_EXEMPLARS).name("keda_scaler_metrics_value")
                .help("KEDA-compatible: the value served to the HPA for each trigger's metric").labelNames(KEDA_SCALER)
                .register(registry);
        kedaActive = Gauge.builder(WITHOUT_EXEMPLARS).name("keda_scaler_active")
                .help("KEDA-compatible: 1 when the trigger is active").labelNames(KEDA_SCALER).register(registry);
        kedaDetailErrors = Counter.builder(WITHOUT_EXEMPLARS).name("keda_scaler_detail_errors_total")
                .help("KEDA-compatible: errors of each trigger").labelNames(KEDA_SCALER).register(registry);
        kedaErrors = Counter.builder(WITHOUT_EXEMPLARS).name("keda_scaler_errors_total")
                .help("KEDA-compatible (older KEDA name of keda_scaler_detail_errors_total): errors of each trigger")
                .labelNames(KEDA_SCALER).register(registry);
        kedaObjectErrors = Counter.builder(WITHOUT_EXEMPLARS).name("keda_scaled_object_errors_total")
                .help("KEDA-compatible: errors of each ScaledObject's triggers").labelNames(KEDA_OBJECT).register(registry);
        kedaPaused = Gauge.builder(WITHOUT_EXEMPLARS).name("keda_scaled_object_paused")
                .help("KEDA-compatible: 1 when the ScaledObject is paused").labelNames(KEDA_OBJECT).register(registry);
        kedaLatency = Gauge.builder(WITHOUT_EXEMPLARS).name("keda_scaler_metrics_latency_seconds")
                .help("KEDA-compatible: how long the trigger's latest measurement took (its cluster's batched poll)")
                .labelNames(KEDA_SCALER).register(registry);
        Gauge.builder(WITHOUT_EXEMPLARS).name("keda_build_info")
                .help("KEDA-compatible: 1, labelled with lagscaler's version and runtime (goversion holds the JVM's)")
                .labelNames("version", "git_commit", "goversion", "goos", "goarch").register(registry)
                .labelValues(version(), "unknown", "java" + Runtime.version().feature() + "." + Runtime.version().interim()
                        + "." + Runtime.version().update(), System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT),
                        System.getProperty("os.arch").equals("x86_64") ? "amd64" : System.getProperty("os.arch"))
                .set(1);

        currentReplicas = Gauge.builder(WITHOUT_EXEMPLARS).name("lagscaler_scaledobject_current_replicas")
                .help("The target's spec.replicas as last read").labelNames(OBJECT).register(registry);
        desiredReplicas = Gauge.builder(WITHOUT_EXEMPLARS).name("lagscaler_scaledobject_desired_replicas")
                .help("What the target is being moved to: the operator's own write (0 and activation), else the HPA's"
                        + " desired replicas").labelNames(OBJECT).register(registry);
        minReplicas = Gauge.builder(WITHOUT_EXEMPLARS).name("lagscaler_scaledobject_min_replicas").help("minReplicaCount")
                .labelNames(OBJECT).register(registry);
        maxReplicas = Gauge.builder(WITHOUT_EXEMPLARS).name("lagscaler_scaledobject_max_replicas").help("maxReplicaCount")
                .labelNames(OBJECT).register(registry);
        objectState = Gauge.builder(WITHOUT_EXEMPLARS).name("lagscaler_scaledobject_condition")
                .help("1 when the ScaledObject's condition (Ready, Active, Fallback, Paused) is True")
                .labelNames("namespace", "scaledobject", "condition").register(registry);
        lastActive = Gauge.builder(WITHOUT_EXEMPLARS).name("lagscaler_scaledobject_last_active_timestamp_seconds")
                .help("status.lastActiveTime").labelNames(OBJECT).register(registry);

        jobs = Gauge.builder(WITHOUT_EXEMPLARS).name("lagscaler_scaledjob_jobs")
                .help("The ScaledJob's Jobs by state: running (unfinished, a pod running), pending (unfinished, by KEDA's"
                        + " pending rule), succeeded and failed (the history kept)")
                .labelNames(append(JOB, "state")).register(registry);
        jobsCreated = Counter.builder(WITHOUT_EXEMPLARS).name("lagscaler_scaledjob_jobs_created_total")
                .help("Jobs the operator created for the ScaledJob").labelNames(JOB).register(registry);
        jobsQueueLength = Gauge.builder(WITHOUT_EXEMPLARS).name("lagscaler_scaledjob_queue_length")
                .help("The queue length the last decision read: the triggers' lag, combined by multipleScalersCalculation")
                .labelNames(JOB).register(registry);
        jobsWanted = Gauge.builder(WITHOUT_EXEMPLARS).name("lagscaler_scaledjob_effective_max_scale")
                .help("Jobs the last decision wanted running (KEDA's effective max scale, by the scaling strategy)")
                .labelNames(JOB).register(registry);
        jobCondition = Gauge.builder(WITHOUT_EXEMPLARS).name("lagscaler_scaledjob_condition")
                .help("1 when the ScaledJob's condition (Ready, Active, Paused) is True")
                .labelNames(append(JOB, "condition")).register(registry);
        kedaJobErrors = Counter.builder(WITHOUT_EXEMPLARS).name("keda_scaled_job_errors_total")
                .help("KEDA-compatible: errors of each ScaledJob's triggers").labelNames("namespace", "scaledJob")
                .register(registry);

        pollDuration = Histogram.builder(WITHOUT_EXEMPLARS).name("lagscaler_kafka_poll_duration_seconds")
                .help("One batched poll of one Kafka cluster (every due trigger of it)")
                .classicUpperBounds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30).classicOnly()
                .labelNames("cluster").register(registry);
        kafkaRequests = Counter.builder(WITHOUT_EXEMPLARS).name("lagscaler_kafka_requests_total")
                .help("Kafka requests the operator's client sent").labelNames("cluster").register(registry);
        requestsPerPoll = Gauge.builder(WITHOUT_EXEMPLARS).name("lagscaler_kafka_requests_per_poll")
                .help("Kafka requests of the last poll of the cluster").labelNames("cluster").register(registry);
        polls = Counter.builder(WITHOUT_EXEMPLARS).name("lagscaler_kafka_polls_total").help("Polls by result (ok, failed)")
                .labelNames("cluster", "result").register(registry);
        connections = Gauge.builder(WITHOUT_EXEMPLARS).name("lagscaler_kafka_connections").help("Open broker connections of the client")
                .labelNames("cluster").register(registry);
        connectionsCreated = Gauge.builder(WITHOUT_EXEMPLARS).name("lagscaler_kafka_connections_created")
                .help("Connections the current client has opened (reconnects make it grow; a new client restarts it)")
                .labelNames("cluster").register(registry);

        shardMoves = Counter.builder(WITHOUT_EXEMPLARS).name("lagscaler_shard_objects_moved_total")
                .help("ScaledObjects and ScaledJobs this replica took or gave up when the membership changed (sharded mode)")
                .register(registry);
        reconcileDuration = Histogram.builder(WITHOUT_EXEMPLARS).name("lagscaler_reconcile_duration_seconds")
                .help("One reconcile pass of one ScaledObject")
                .classicUpperBounds(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5).classicOnly()
                .register(registry);
        reconcileErrors = Counter.builder(WITHOUT_EXEMPLARS).name("lagscaler_reconcile_errors_total")
                .help("Reconcile passes that failed (apiserver errors, conflicts, crashes)").labelNames("kind")
                .register(registry);
        for (String kind : List.of("apiserver", "conflict", "crash")) {
            reconcileErrors.initLabelValues(kind);
        }
        queueLatency = Histogram.builder(WITHOUT_EXEMPLARS).name("lagscaler_workqueue_latency_seconds")
                .help("From a ScaledObject entering the work queue to a worker taking it")
                .classicUpperBounds(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10).classicOnly()
                .register(registry);
        apiserverBytes = Counter.builder(WITHOUT_EXEMPLARS).name("lagscaler_apiserver_response_bytes")
                .help("Bytes received from the apiserver by verb (watch: the informers' events as they arrive)")
                .labelNames("verb").register(registry);
        apiserverRequests = Counter.builder(WITHOUT_EXEMPLARS).name("lagscaler_apiserver_requests_total")
                .help("Requests to the Kubernetes apiserver by verb and HTTP code").labelNames("verb", "code")
                .register(registry);
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    /** The work queue's depth and the leader flag, read at scrape time. */
    public void watchLoop(IntSupplier queueDepth, BooleanSupplier leader) {
        GaugeWithCallback.builder().name("lagscaler_workqueue_depth").help("ScaledObjects waiting for a worker")
                .callback(cb -> cb.call(queueDepth.getAsInt())).register(registry);
        GaugeWithCallback.builder().name("lagscaler_leader").help("1 while this operator process leads")
                .callback(cb -> cb.call(leader.getAsBoolean() ? 1 : 0)).register(registry);
    }

    /** Sharded operators: the members this replica sees and whether it settled into its share, read at scrape time. */
    public void watchShard(IntSupplier members, BooleanSupplier settled, IntSupplier held) {
        GaugeWithCallback.builder().name("lagscaler_shard_objects_held")
                .help("Cached ScaledObjects and ScaledJobs this replica acts on now (sharded mode: its share)")
                .callback(cb -> cb.call(held.getAsInt())).register(registry);
        GaugeWithCallback.builder().name("lagscaler_shard_members")
                .help("Operator replicas this one shares the objects with, itself included (sharded mode; 0 otherwise)")
                .callback(cb -> cb.call(members.getAsInt())).register(registry);
        GaugeWithCallback.builder().name("lagscaler_shard_settled")
                .help("1 once every live replica agreed on the membership this one sees, and it acts on its whole share")
                .callback(cb -> cb.call(settled.getAsBoolean() ? 1 : 0)).register(registry);
    }

    /** Objects this replica took or gave up on a change of membership. */
    public void shardObjectsMoved(int objects) {
        shardMoves.inc(objects);
    }

    /** The wake-up consumers' state per Kafka cluster, read at scrape time. */
    public void watchWakeUp(java.util.function.Supplier<Map<String, dev.lagscaler.lag.kafka.LagEngine.WakeUpState>> state) {
        GaugeWithCallback.builder().name("lagscaler_kafka_wakeup_consumer_healthy")
                .help("1 while the cluster's wake-up consumer fetches; 0 means its idle targets are woken by polling only")
                .labelNames("cluster").callback(cb -> state.get().forEach((cluster, s) -> cb.call(s.healthy() ? 1 : 0, cluster)))
                .register(registry);
        io.prometheus.metrics.core.metrics.CounterWithCallback.builder().name("lagscaler_kafka_wakeup_requests_total")
                .help("Kafka requests the wake-up consumer sent (mostly fetches: two a second per broker while it parks)")
                .labelNames("cluster").callback(cb -> state.get().forEach((cluster, s) -> cb.call(s.requests(), cluster)))
                .register(registry);
        io.prometheus.metrics.core.metrics.CounterWithCallback.builder().name("lagscaler_kafka_wakeup_consumer_restarts_total")
                .help("Times the wake-up consumer failed (to be built, or to fetch) and was started again, with backoff")
                .labelNames("cluster").callback(cb -> state.get().forEach((cluster, s) -> cb.call(s.restarts(), cluster)))
                .register(registry);
        GaugeWithCallback.builder().name("lagscaler_kafka_wakeup_partitions")
                .help("Partitions the wake-up consumer parks on, positions resolved (those of targets at zero; fewer while it is replaced or failing)")
                .labelNames("cluster").callback(cb -> state.get().forEach((cluster, s) -> cb.call(s.partitions(), cluster)))
                .register(registry);
    }

    /**
     * KEDA's registration gauges, read at scrape time: ScaledObjects per namespace
     * ({@code keda_resource_registered_total{type="scaled_object"}}) and triggers per type
     * ({@code keda_trigger_registered_total}). Empty maps on a standby (it holds no caches).
     */
    public void watchRegistered(Supplier<Map<String, Long>> scaledObjectsByNamespace,
                                Supplier<Map<String, Long>> triggersByType) {
        GaugeWithCallback.builder().name("keda_resource_registered_total")
                .help("KEDA-compatible: ScaledObjects the operator handles, per namespace").labelNames("type", "namespace")
                .callback(cb -> scaledObjectsByNamespace.get().forEach((ns, n) -> cb.call(n, "scaled_object", ns)))
                .register(registry);
        GaugeWithCallback.builder().name("keda_trigger_registered_total")
                .help("KEDA-compatible: triggers of the ScaledObjects the operator handles, per trigger type")
                .labelNames("type").callback(cb -> triggersByType.get().forEach((type, n) -> cb.call(n, type)))
                .register(registry);
    }

    /** lagscaler's version from the jar's manifest; "dev" when run from classes. */
    static String version() {
        String v = OperatorMetrics.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    /** One poll result of one trigger. */
    public void triggerResult(String namespace, String scaledObject, int index, String scalerName,
                              KafkaTriggerSettings settings, TriggerResult result) {
        String[] labels = {namespace, scaledObject, Integer.toString(index), settings.consumerGroup()};
        String[] keda = {namespace, settings.metricName(index), kedaName(scaledObject), scalerName, Integer.toString(index),
                kedaType(scaledObject)};
        kedaLabelsByCluster.computeIfAbsent(settings.connection().label(),
                k -> java.util.concurrent.ConcurrentHashMap.newKeySet()).add(List.of(keda));
        lagThreshold.labelValues(labels).set(settings.lagThreshold());
        activationThreshold.labelValues(labels).set(settings.activationLagThreshold());
        if (result instanceof TriggerResult.Measured m) {
            triggerLag.labelValues(labels).set(m.lag().rawTotalLag());
            setOrRemove(lagSeconds, labels, m.timeLag().maxSeconds());
            setOrRemove(consumerStatus, labels, m.health().judged() ? (double) m.health().status().ordinal() : null);
            setOrRemove(producedRate, labels, m.health().throughput().producedPerSecond());
            setOrRemove(consumedRate, labels, m.health().throughput().consumedPerSecond());
            triggerActive.labelValues(labels).set(m.lag().active() ? 1 : 0);
            kedaActive.labelValues(keda).set(m.lag().active() ? 1 : 0);
            lastSuccess.labelValues(labels).set(m.at().toEpochMilli() / 1000.0);
            Map<String, Long> byTopic = new TreeMap<>();
            for (PartitionLag p : m.lag().partitions()) {
                byTopic.merge(p.offsets().topic(), p.lag(), Long::sum);
                if (partitionLag) {
                    partitionLagRecords.labelValues(append(append(labels, p.offsets().topic()),
                            Integer.toString(p.offsets().partition()))).set(p.lag());
                }
            }
            // Only this trigger's own series of topics it no longer reports go: an exact removal each, not a scan of
            // every trigger's series on every poll.
            Set<String> before = topicsReported.put(List.of(labels), byTopic.keySet());
            if (before != null) {
                before.stream().filter(t -> !byTopic.containsKey(t)).forEach(t -> topicLag.remove(append(labels, t)));
            }
            byTopic.forEach((topic, lag) -> topicLag.labelValues(append(labels, topic)).set(lag));
            kedaDetailErrors.initLabelValues(keda);
            kedaErrors.initLabelValues(keda);
            objectErrors(scaledObject).initLabelValues(namespace, kedaName(scaledObject));
        } else if (result instanceof TriggerResult.Failed f) {
            pollErrors.labelValues(append(labels, f.error().kind().name())).inc();
            kedaDetailErrors.labelValues(keda).inc();
            kedaErrors.labelValues(keda).inc();
            objectErrors(scaledObject).labelValues(namespace, kedaName(scaledObject)).inc();
        }
    }

    /**
     * What a reconcile decided: replicas, conditions and the values sent to the HPA. {@code resourceTriggers} are the
     * cpu and memory triggers by index (their resource name): KEDA reports each as active on every check, the HPA
     * reading them itself, except when scalingModifiers fold them into a formula (then pass none).
     */
    public void reconciled(String namespace, String scaledObject, int minReplicaCount, int maxReplicaCount,
                           int current, Integer hpaDesired, Plan plan, JsonNode status, IntFunction<String> scalerNames,
                           Map<Integer, String> resourceTriggers) {
        // Written when they change only: a pass must not walk every series of the family (at 3,000 objects that
        // walk was most of the workers' time).
        List<List<String>> resources = new java.util.ArrayList<>();
        resourceTriggers.forEach((index, resource) -> resources.add(List.of(namespace, resource, scaledObject,
                scalerNames.apply(index), Integer.toString(index), "scaledobject")));
        List<List<String>> before = resourceSeries.put(List.of(namespace, scaledObject), resources);
        if (!resources.equals(before)) {
            if (before != null) {
                before.forEach(l -> kedaActive.remove(l.toArray(String[]::new)));
            }
            resources.forEach(l -> kedaActive.labelValues(l.toArray(String[]::new)).set(1));
        }
        currentReplicas.labelValues(namespace, scaledObject).set(current);
        int desired = plan.replicaWrite() != null ? plan.replicaWrite() : hpaDesired != null && current > 0 ? hpaDesired : current;
        desiredReplicas.labelValues(namespace, scaledObject).set(desired);
        minReplicas.labelValues(namespace, scaledObject).set(minReplicaCount);
        maxReplicas.labelValues(namespace, scaledObject).set(maxReplicaCount);
        JsonNode after = plan.status() != null ? plan.status() : status;
        for (String condition : List.of("Ready", "Active", "Fallback", "Paused")) {
            boolean on = conditionTrue(after, condition);
            objectState.labelValues(namespace, scaledObject, condition).set(on ? 1 : 0);
            if (condition.equals("Paused")) {
                kedaPaused.labelValues(namespace, scaledObject).set(on ? 1 : 0);
            }
        }
        String lastActiveTime = after.path("lastActiveTime").asText("");
        if (!lastActiveTime.isEmpty()) {
            try {
                lastActive.labelValues(namespace, scaledObject).set(Instant.parse(lastActiveTime).toEpochMilli() / 1000.0);
            } catch (DateTimeParseException e) {
                // A status someone else wrote: the gauge keeps its last value.
            }
        }
        for (Plan.MetricValue v : plan.metrics()) {
            if (v.valueMilli() == null) {
                continue;
            }
            double value = v.valueMilli() / 1000.0;
            metricValue.remove(namespace, scaledObject, v.metricName(), Boolean.toString(!v.fallback()));
            metricValue.labelValues(namespace, scaledObject, v.metricName(), Boolean.toString(v.fallback())).set(value);
            int index = MetricNames.triggerIndex(v.metricName());
            kedaMetricValue.labelValues(namespace, v.metricName(), scaledObject, scalerNames.apply(index),
                    Integer.toString(index), "scaledobject").set(value);
        }
    }

    /** KEDA's per-object error counter: keda_scaled_job_errors_total for a ScaledJob's triggers, else the object's. */
    private Counter objectErrors(String object) {
        return object.startsWith(SCALED_JOB_PREFIX) ? kedaJobErrors : kedaObjectErrors;
    }

    /**
     * What a ScaledJob reconcile read and decided: its Jobs by state, the Jobs it created, the queue length and the
     * Jobs wanted, and its conditions after the pass.
     */
    public void scaledJobReconciled(String namespace, String scaledJob, List<JobPlanner.ExistingJob> existing,
                                    JobPlanner.JobPlan plan, int created, JsonNode status) {
        Map<String, Integer> byState = new TreeMap<>(Map.of("running", 0, "pending", 0, "succeeded", 0, "failed", 0));
        for (JobPlanner.ExistingJob job : existing) {
            String state = job.finished() == null ? job.pending() ? "pending" : "running"
                    : job.finished().equals("Complete") ? "succeeded" : "failed";
            byState.merge(state, 1, Integer::sum);
        }
        byState.forEach((state, n) -> jobs.labelValues(namespace, scaledJob, state).set(n));
        jobsCreated.labelValues(namespace, scaledJob).inc(created);
        if (plan.decision() != null) {
            jobsQueueLength.labelValues(namespace, scaledJob).set(plan.decision().queueLength());
            jobsWanted.labelValues(namespace, scaledJob).set(plan.decision().effectiveMaxScale());
        }
        JsonNode after = plan.status() != null ? plan.status() : status;
        for (String condition : List.of("Ready", "Active", "Paused")) {
            jobCondition.labelValues(namespace, scaledJob, condition).set(conditionTrue(after, condition) ? 1 : 0);
        }
    }

    private static boolean conditionTrue(JsonNode status, String type) {
        for (JsonNode c : status.path("conditions")) {
            if (c.path("type").asText().equals(type) && c.path("status").asText().equals("True")) {
                return true;
            }
        }
        return false;
    }

    /** A series that exists only while its value is known: absent, not zero, when it is not. */
    private static void setOrRemove(Gauge gauge, String[] labels, Double value) {
        if (value != null) {
            gauge.labelValues(labels).set(value);
        } else {
            gauge.remove(labels);
        }
    }

    /** The ScaledObject is gone (or no longer measured): its series go with it. */
    public void removeObject(String namespace, String scaledObject) {
        // Ours and KEDA's per-object families carry the namespace first and the object second ...
        for (var metric : List.of(triggerLag, topicLag, partitionLagRecords, triggerActive, lagSeconds, consumerStatus, producedRate, consumedRate, lagThreshold,
                activationThreshold, lastSuccess, currentReplicas, desiredReplicas, minReplicas, maxReplicas, objectState,
                lastActive, metricValue, pollErrors, kedaObjectErrors, kedaPaused)) {
            metric.removeIf(l -> l.get(0).equals(namespace) && l.get(1).equals(scaledObject));
        }
        // ... KEDA's per-scaler families carry it third (namespace, metric, scaledObject, ..., type).
        java.util.function.Predicate<List<String>> kedaSeries = l -> l.get(0).equals(namespace)
                && l.get(2).equals(kedaName(scaledObject)) && l.get(5).equals(kedaType(scaledObject));
        for (var metric : List.of(kedaMetricValue, kedaActive, kedaDetailErrors, kedaErrors, kedaLatency)) {
            metric.removeIf(kedaSeries::test);
        }
        kedaLabelsByCluster.values().forEach(set -> set.removeIf(kedaSeries));
        // ... and the ScaledJob's own families name it plainly.
        if (scaledObject.startsWith(SCALED_JOB_PREFIX)) {
            for (var metric : List.of(jobs, jobsCreated, jobsQueueLength, jobsWanted, jobCondition, kedaJobErrors)) {
                metric.removeIf(l -> l.get(0).equals(namespace) && l.get(1).equals(kedaName(scaledObject)));
            }
        }
        topicsReported.keySet().removeIf(l -> l.get(0).equals(namespace) && l.get(1).equals(scaledObject));
        resourceSeries.remove(List.of(namespace, scaledObject));
    }

    /**
     * A ScaledJob's triggers report as "sj:<name>" (ours keep the prefix, so a ScaledObject and a ScaledJob of one name
     * stay apart); KEDA's families name it plainly with type "scaledjob", as KEDA does.
     */
    static String kedaName(String object) {
        return object.startsWith(SCALED_JOB_PREFIX) ? object.substring(SCALED_JOB_PREFIX.length()) : object;
    }

    static String kedaType(String object) {
        return object.startsWith(SCALED_JOB_PREFIX) ? "scaledjob" : "scaledobject";
    }

    /** The prefix a ScaledJob's triggers report under (see kedaName). */
    public static final String SCALED_JOB_PREFIX = "sj:";

    /** One batched poll of one Kafka cluster. */
    public void poll(PollStats stats) {
        pollDuration.labelValues(stats.cluster()).observe(stats.duration().toNanos() / 1e9);
        if (!stats.failed()) {
            // One batched poll measures every due trigger of the cluster: each one's latency is that poll's.
            for (List<String> keda : kedaLabelsByCluster.getOrDefault(stats.cluster(), Set.of())) {
                kedaLatency.labelValues(keda.toArray(String[]::new)).set(stats.duration().toNanos() / 1e9);
            }
        }
        kafkaRequests.labelValues(stats.cluster()).inc(stats.kafkaRequests());
        requestsPerPoll.labelValues(stats.cluster()).set(stats.kafkaRequests());
        polls.labelValues(stats.cluster(), stats.failed() ? "failed" : "ok").inc();
        connections.labelValues(stats.cluster()).set(stats.connections());
        connectionsCreated.labelValues(stats.cluster()).set(stats.connectionsCreated());
    }

    public void reconcile(Duration took, String errorKind) {
        reconcileDuration.observe(took.toNanos() / 1e9);
        if (errorKind != null) {
            reconcileErrors.labelValues(errorKind).inc();
        }
    }

    public void queueWait(Duration waited) {
        queueLatency.observe(waited.toNanos() / 1e9);
    }

    /** Bytes of apiserver answers, as read (a watch's events as they arrive). */
    public void apiserverBytes(String verb, long bytes) {
        apiserverBytes.labelValues(verb).inc(bytes);
    }

    public void apiserverRequest(String verb, int code) {
        apiserverRequests.labelValues(verb, Integer.toString(code)).inc();
    }

    private static String[] append(String[] values, String value) {
        String[] out = java.util.Arrays.copyOf(values, values.length + 1);
        out[values.length] = value;
        return out;
    }
}
