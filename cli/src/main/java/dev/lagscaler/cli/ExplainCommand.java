package dev.lagscaler.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lagscaler.KedaKeys;
import dev.lagscaler.controller.AuthResolver;
import dev.lagscaler.controller.ClusterContext;
import dev.lagscaler.controller.JobReads;
import dev.lagscaler.lag.LagResult;
import dev.lagscaler.lag.PartitionLag;
import dev.lagscaler.lag.TriggerKey;
import dev.lagscaler.lag.TriggerResult;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.plan.JobPlanner;
import dev.lagscaler.plan.Plan;
import dev.lagscaler.plan.PlanInput;
import dev.lagscaler.plan.ReconcilePlanner;
import dev.lagscaler.plan.ResolvedTrigger;
import dev.lagscaler.plan.TriggerHealth;
import dev.lagscaler.plan.Triggers;
import dev.lagscaler.scaling.Condition;
import dev.lagscaler.scaling.ScaledJobParser;
import dev.lagscaler.scaling.ScaledJobSpec;
import dev.lagscaler.scaling.ScaledObjectInvalid;
import dev.lagscaler.scaling.ScaledObjectParser;
import dev.lagscaler.scaling.ScaledObjectSpec;
import dev.lagscaler.trigger.KafkaTriggerSettings;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.apis.AutoscalingV2Api;
import io.kubernetes.client.openapi.apis.BatchV1Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.CoreV1Event;
import io.kubernetes.client.openapi.models.V1Job;
import io.kubernetes.client.openapi.models.V2HorizontalPodAutoscaler;
import io.kubernetes.client.util.Config;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesApi;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code lagscaler explain [scaledjob] <namespace>/<name>}: why the target has the replicas it has (or why a ScaledJob
 * makes the Jobs it makes), from a live cluster. It reads what the operator reads (the object, its target or Jobs, its
 * HPA, its TriggerAuthentications and Secrets), measures each kafka trigger with the same lag engine, and runs the
 * operator's own planning step on it.
 */
@Command(name = "explain", mixinStandardHelpOptions = true,
        description = {"Explains a ScaledObject's replica count on a live cluster: per trigger the lag (top partitions),",
                "the metric and thresholds, active or not and why; the HPA's desired replicas and conditions; cooldown,",
                "fallback and pause; the last Events. Uses the operator's own planning code.",
                "For a ScaledJob (kind scaledjob or sj first): the queue length, the running and pending Jobs, the Jobs",
                "the next pass creates and why, the history it trims.",
                "",
                "Example:  lagscaler explain shop/orders-consumer --kubeconfig ~/.kube/config -o json",
                "          lagscaler explain sj shop/order-batches"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:explained", "1:the object or its cluster could not be read", "2:bad input"})
final class ExplainCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Parameters(arity = "1..2", paramLabel = "[KIND] NAMESPACE/NAME",
            description = "The object: a ScaledObject, or with KIND scaledjob (sj) a ScaledJob.")
    List<String> args;

    @Option(names = "--kubeconfig", description = "Kubeconfig file (default: in-cluster, then ~/.kube/config).")
    String kubeconfig;

    @Option(names = {"-o", "--output"}, defaultValue = "table", description = "table, json or yaml (default ${DEFAULT-VALUE}).")
    String output;

    @Option(names = "--top", defaultValue = "5", description = "Partitions shown per trigger, most lag first (default ${DEFAULT-VALUE}).")
    int top;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        String target = args.get(args.size() - 1);
        String kind = args.size() == 2 ? kind(args.get(0)) : "ScaledObject";
        int slash = target.indexOf('/');
        if (kind == null) {
            err.println("lagscaler explain: KIND is scaledobject (so) or scaledjob (sj), got \"" + args.get(0) + "\"");
            return LagscalerCli.EXIT_BAD_INPUT;
        }
        if (slash <= 0 || slash == target.length() - 1 || !Output.valid(output)) {
            err.println("lagscaler explain: give [KIND] NAMESPACE/NAME and -o " + Output.NAMES);
            return LagscalerCli.EXIT_BAD_INPUT;
        }
        ApiClient client = kubeconfig == null ? Config.defaultClient() : Config.fromConfig(kubeconfig);
        client.setReadTimeout(30_000);
        String namespace = target.substring(0, slash);
        String name = target.substring(slash + 1);
        ObjectNode explanation;
        try {
            explanation = kind.equals("ScaledJob") ? explainJob(client, namespace, name, top, Instant.now())
                    : explain(client, namespace, name, top, Instant.now());
        } catch (ApiException e) {
            err.println("lagscaler explain: " + target + ": HTTP " + e.getCode()
                    + (e.getCode() == 404 ? " (no such " + kind + ")" : ""));
            return 1;
        } catch (ScaledObjectInvalid e) {
            err.println("lagscaler explain: " + target + " is not a valid " + kind + ": " + e.getMessage());
            return 1;
        }
        Output.print(spec.commandLine().getOut(), output, explanation,
                kind.equals("ScaledJob") ? ExplainCommand::jobTable : ExplainCommand::table);
        return 0;
    }

    /** kubectl's names of the two kinds (singular, plural, short), or null. */
    private static String kind(String arg) {
        return switch (arg.toLowerCase(java.util.Locale.ROOT)) {
            case "scaledobject", "scaledobjects", "so" -> "ScaledObject";
            case "scaledjob", "scaledjobs", "sj" -> "ScaledJob";
            default -> null;
        };
    }

    /** The explanation as a document (what -o json prints). */
    static ObjectNode explain(ApiClient client, String namespace, String name, int top, Instant now)
            throws ApiException, ScaledObjectInvalid {
        JsonNode so = raw(client, "scaledobjects", namespace, name);
        if (so == null) {
            throw new ApiException(404, "no such ScaledObject");
        }
        ScaledObjectSpec spec = ScaledObjectParser.parse(so);
        JsonNode status = so.path("status");
        ObjectNode doc = JSON.createObjectNode();
        doc.put("scaledObject", namespace + "/" + name);
        ObjectNode targetNode = doc.putObject("target");
        targetNode.put("kind", spec.target().kind()).put("name", spec.target().name());
        JsonNode podTemplate = null;
        int current;
        AppsV1Api apps = new AppsV1Api(client);
        if (spec.target().kind().equals("StatefulSet")) {
            var set = apps.readNamespacedStatefulSet(spec.target().name(), namespace).execute();
            current = set.getSpec().getReplicas() == null ? 1 : set.getSpec().getReplicas();
            podTemplate = readTree(client.getJSON().serialize(set.getSpec().getTemplate()));
        } else {
            var deployment = apps.readNamespacedDeployment(spec.target().name(), namespace).execute();
            current = deployment.getSpec().getReplicas() == null ? 1 : deployment.getSpec().getReplicas();
            podTemplate = readTree(client.getJSON().serialize(deployment.getSpec().getTemplate()));
        }
        targetNode.put("replicas", current);
        targetNode.put("minReplicaCount", spec.minReplicaCount()).put("maxReplicaCount", spec.maxReplicaCount());

        JsonNode template = podTemplate;
        List<ResolvedTrigger> triggers = Triggers.resolveAll(spec, new ClusterContext(auth(client), namespace,
                () -> template, spec.target().envSourceContainerName()));
        ArrayNode triggerNodes = doc.putArray("triggers");
        Map<Integer, TriggerHealth> health = measure(namespace, name, triggers, top, triggerNodes);
        // What only the operator's window knows (one poll measures no rate): its drain sizing, from the status.
        for (JsonNode node : triggerNodes) {
            JsonNode sizing = status.path("health").path(node.path("metric").asText()).path("drainSizing");
            if (sizing.isTextual()) {
                ((ObjectNode) node).put("drainSizing", sizing.asText());
            }
        }
        Plan plan = ReconcilePlanner.plan(new PlanInput(spec, so.path("metadata").path("uid").asText(), status, current,
                null, triggers, health, Duration.ofSeconds(1), now));
        ObjectNode decision = doc.putObject("decision");
        if (plan.decision() != null) {
            decision.put("replicas", plan.decision().replicas());
            decision.put("reason", plan.decision().reason());
            decision.put("operatorWritesScale", plan.decision().scaleWrite());
            decision.put("hpaWanted", plan.decision().hpaWanted());
            ObjectNode conditions = decision.putObject("conditions");
            for (Map.Entry<String, Condition> c : plan.decision().conditions().entrySet()) {
                conditions.putObject(c.getKey()).put("status", c.getValue().status()).put("reason", c.getValue().reason())
                        .put("message", c.getValue().message());
            }
        } else {
            decision.put("reason", plan.reason());
        }
        describeCooldown(doc, spec, status, current, now);
        ObjectNode state = doc.putObject("state");
        state.put("paused", dev.lagscaler.scaling.KedaBoolean.paused(spec.annotations()));
        state.put("pausedScaleIn", dev.lagscaler.scaling.KedaBoolean.pausedScaleIn(spec.annotations()));
        state.put("pausedScaleOut", dev.lagscaler.scaling.KedaBoolean.pausedScaleOut(spec.annotations()));
        state.put("pausedReplicas", spec.annotations().get("autoscaling.keda.sh/paused-replicas"));
        state.put("fallbackConfigured", spec.fallback() != null);
        for (JsonNode c : status.path("conditions")) {
            state.putObject(c.path("type").asText()).put("status", c.path("status").asText())
                    .put("reason", c.path("reason").asText()).put("message", c.path("message").asText());
        }
        describeHpa(doc, client, namespace, spec.hpaName());
        describeEvents(doc, client, namespace, "ScaledObject", name);
        return doc;
    }

    /**
     * A ScaledJob's explanation: its triggers measured, its Jobs read as the controller reads them, and the
     * controller's own planning step on them (what the next pass creates and deletes, and why).
     */
    static ObjectNode explainJob(ApiClient client, String namespace, String name, int top, Instant now)
            throws ApiException, ScaledObjectInvalid {
        JsonNode sj = raw(client, KedaKeys.SCALED_JOBS, namespace, name);
        if (sj == null) {
            throw new ApiException(404, "no such ScaledJob");
        }
        ScaledJobSpec spec = ScaledJobParser.parse(sj);
        JsonNode status = sj.path("status");
        ObjectNode doc = JSON.createObjectNode();
        doc.put("scaledJob", namespace + "/" + name);
        doc.put("strategy", spec.scalingStrategy().strategy())
                .put("multipleScalersCalculation", spec.scalingStrategy().multipleScalersCalculation())
                .put("minReplicaCount", spec.minJobs()).put("maxReplicaCount", spec.maxJobs() + spec.minJobs());
        JsonNode template = readTree(spec.jobTemplate()).path("template");
        ClusterContext context = new ClusterContext(auth(client), namespace, () -> template, spec.envSourceContainerName());
        List<ResolvedTrigger> triggers = new ArrayList<>();
        for (int i = 0; i < spec.triggers().size(); i++) {
            triggers.add(Triggers.resolve(i, spec.triggers().get(i), context));
        }
        ArrayNode triggerNodes = doc.putArray("triggers");
        Map<Integer, TriggerHealth> health = measure(namespace, name, triggers, top, triggerNodes);
        Map<Integer, KafkaTriggerSettings> kafka = new HashMap<>();
        triggers.stream().filter(t -> t instanceof ResolvedTrigger.Kafka)
                .forEach(t -> kafka.put(t.index(), ((ResolvedTrigger.Kafka) t).settings()));

        String uid = sj.path("metadata").path("uid").asText();
        List<V1Job> owned = new BatchV1Api(client).listNamespacedJob(namespace)
                .labelSelector(JobPlanner.SCALED_JOB_LABEL + "=" + name).execute().getItems().stream()
                .filter(j -> j.getMetadata().getOwnerReferences() != null && j.getMetadata().getOwnerReferences().stream()
                        .anyMatch(o -> uid.equals(o.getUid())))
                .toList();
        List<JobPlanner.ExistingJob> jobs = JobReads.existing(client, namespace, owned,
                spec.scalingStrategy().pendingPodConditions());
        ArrayNode jobNodes = doc.putArray("jobs");
        for (JobPlanner.ExistingJob j : jobs) {
            jobNodes.addObject().put("name", j.name()).put("state", j.finished() == null
                    ? j.pending() ? "pending" : "running" : j.finished().equals("Complete") ? "succeeded" : "failed")
                    .put("finishedAt", j.finishedAt() == null ? null : j.finishedAt().toString());
        }
        JobPlanner.JobPlan plan = JobPlanner.plan(new JobPlanner.JobPlanInput(spec, uid, status, jobs, kafka, health,
                Duration.ofSeconds(1), now));
        ObjectNode decision = doc.putObject("decision");
        if (plan.decision() != null) {
            var d = plan.decision();
            decision.put("jobsToCreate", plan.create()).put("active", d.active()).put("queueLength", d.queueLength())
                    .put("jobsAskedFor", d.maxScale()).put("runningJobCount", d.running())
                    .put("pendingJobCount", d.pending()).put("effectiveMaxScale", d.effectiveMaxScale())
                    .put("reason", d.reason());
        }
        plan.delete().forEach(decision.putArray("jobsToDelete")::add);
        if (!triggers.stream().allMatch(t -> t instanceof ResolvedTrigger.Kafka)) {
            decision.put("reason", "not acted on: lagscaler's ScaledJobs scale on kafka triggers only (see triggers)");
            decision.put("jobsToCreate", 0);
        }
        ObjectNode state = doc.putObject("state");
        state.put("paused", spec.paused());
        state.put("lastActiveTime", status.path("lastActiveTime").asText(null));
        for (JsonNode c : status.path("conditions")) {
            state.putObject(c.path("type").asText()).put("status", c.path("status").asText())
                    .put("reason", c.path("reason").asText()).put("message", c.path("message").asText());
        }
        describeEvents(doc, client, namespace, "ScaledJob", name);
        return doc;
    }

    /** The operator's own reads: TriggerAuthentications, Secrets by name, the container's env. */
    private static AuthResolver auth(ApiClient client) {
        return new AuthResolver(new CoreV1Api(client),
                key -> raw(client, "triggerauthentications", key.substring(0, key.indexOf('/')), key.substring(key.indexOf('/') + 1)),
                key -> raw(client, "clustertriggerauthentications", null, key), clusterObjectNamespace());
    }

    /** Polls each kafka trigger once with the operator's lag engine and describes each trigger into {@code out}. */
    private static Map<Integer, TriggerHealth> measure(String namespace, String name, List<ResolvedTrigger> triggers,
                                                       int top, ArrayNode out) {
        Map<Integer, TriggerHealth> health = new HashMap<>();
        try (LagEngine engine = new LagEngine(LagEngine.Options.defaults().withKafkaTimeout(Duration.ofSeconds(10)))) {
            for (ResolvedTrigger t : triggers) {
                ObjectNode node = out.addObject();
                node.put("index", t.index()).put("type", t.type());
                if (t instanceof ResolvedTrigger.Kafka k) {
                    AtomicReference<TriggerResult> result = new AtomicReference<>();
                    try (LagEngine.Registration r = engine.register(new TriggerKey(namespace, name, t.index()), k.settings(),
                            Duration.ofDays(1), result::set)) {
                        engine.pollNow(k.settings().connection());
                    }
                    health.put(t.index(), new TriggerHealth(result.get(), result.get() instanceof TriggerResult.Failed ? 1 : 0));
                    describeKafka(node, k, result.get(), top);
                } else if (t instanceof ResolvedTrigger.Invalid f) {
                    node.put("error", f.message());
                } else if (t instanceof ResolvedTrigger.Unsupported) {
                    node.put("error", "trigger type " + t.type() + " is not supported by lagscaler");
                }
            }
        }
        return health;
    }

    private static void describeKafka(ObjectNode node, ResolvedTrigger.Kafka k, TriggerResult result, int top) {
        var s = k.settings();
        node.put("metric", s.metricName(k.index())).put("consumerGroup", s.consumerGroup()).put("topic", s.topic());
        node.put("lagThreshold", s.lagThreshold()).put("activationLagThreshold", s.activationLagThreshold());
        if (s.drainWithinSeconds() != null) {
            node.put("drainWithinSeconds", s.drainWithinSeconds());
        }
        if (s.lagSecondsThreshold() != null) {
            node.put("lagSecondsThreshold", s.lagSecondsThreshold())
                    .put("activationLagSecondsThreshold", s.activationLagSecondsThreshold());
        }
        if (result instanceof TriggerResult.Failed f) {
            node.put("error", f.error().toString());
            return;
        }
        LagResult lag = ((TriggerResult.Measured) result).lag();
        node.put("totalLag", lag.rawTotalLag()).put("metricValue", lag.metricValue()).put("active", lag.active());
        // One poll has no log-end history: explain says so instead of inventing a time lag.
        var timeLag = ((TriggerResult.Measured) result).timeLag();
        if (timeLag.maxSeconds() != null) {
            node.put("lagSeconds", timeLag.maxSeconds());
        } else {
            node.put("lagSeconds", (String) null).put("lagSecondsUnknown", timeLag.unknownReason());
        }
        node.put("why", Explanation.of(s, k.index(), lag));
        ArrayNode partitions = node.putArray("topPartitions");
        lag.partitions().stream().sorted(Comparator.comparingLong(PartitionLag::lag).reversed()).limit(Math.max(0, top))
                .forEach(p -> partitions.addObject().put("topic", p.offsets().topic()).put("partition", p.offsets().partition())
                        .put("committed", p.offsets().hasCommitted() ? p.offsets().committed() : null)
                        .put("logEnd", p.offsets().hasLatest() ? p.offsets().latest() : null).put("lag", p.lag()));
        node.put("partitions", lag.partitionCount());
    }

    private static void describeCooldown(ObjectNode doc, ScaledObjectSpec spec, JsonNode status, int current, Instant now) {
        ObjectNode cooldown = doc.putObject("cooldown");
        cooldown.put("cooldownPeriodSeconds", spec.cooldownPeriodSeconds());
        String last = status.path("lastActiveTime").asText("");
        if (last.isEmpty() || current == 0) {
            cooldown.put("remainingSeconds", 0);
            return;
        }
        Instant lastActive = OffsetDateTime.parse(last).toInstant();
        cooldown.put("lastActiveTime", last);
        cooldown.put("remainingSeconds", Math.max(0, Duration.between(now, lastActive.plusSeconds(spec.cooldownPeriodSeconds())).toSeconds()));
    }

    private static void describeHpa(ObjectNode doc, ApiClient client, String namespace, String hpaName) {
        ObjectNode hpaNode = doc.putObject("hpa");
        hpaNode.put("name", hpaName);
        try {
            V2HorizontalPodAutoscaler hpa = new AutoscalingV2Api(client).readNamespacedHorizontalPodAutoscaler(hpaName, namespace).execute();
            if (hpa.getStatus() != null) {
                hpaNode.put("currentReplicas", hpa.getStatus().getCurrentReplicas());
                hpaNode.put("desiredReplicas", hpa.getStatus().getDesiredReplicas());
                ArrayNode conditions = hpaNode.putArray("conditions");
                if (hpa.getStatus().getConditions() != null) {
                    hpa.getStatus().getConditions().forEach(c -> conditions.addObject().put("type", c.getType())
                            .put("status", c.getStatus()).put("reason", c.getReason()).put("message", c.getMessage()));
                }
            }
        } catch (ApiException e) {
            hpaNode.put("error", e.getCode() == 404 ? "no HPA (the target is at zero, paused, or not reconciled yet)"
                    : "HTTP " + e.getCode());
        }
    }

    private static void describeEvents(ObjectNode doc, ApiClient client, String namespace, String kind, String name) {
        ArrayNode events = doc.putArray("events");
        try {
            List<CoreV1Event> items = new ArrayList<>(new CoreV1Api(client).listNamespacedEvent(namespace)
                    .fieldSelector("involvedObject.name=" + name + ",involvedObject.kind=" + kind).execute().getItems());
            items.sort(Comparator.comparing(e -> String.valueOf(e.getLastTimestamp() != null ? e.getLastTimestamp()
                    : e.getEventTime())));
            items.subList(Math.max(0, items.size() - 5), items.size()).forEach(e -> events.addObject()
                    .put("type", e.getType()).put("reason", e.getReason()).put("message", e.getMessage())
                    .put("count", e.getCount())
                    .put("last", String.valueOf(e.getLastTimestamp() != null ? e.getLastTimestamp() : e.getEventTime())));
        } catch (ApiException e) {
            events.addObject().put("error", "Events not readable: HTTP " + e.getCode());
        }
    }

    /** The human view: one screen. */
    static void table(PrintWriter out, JsonNode d) {
        JsonNode t = d.path("target");
        out.printf("%s -> %s %s: %d replicas (min %d, max %d)%n", d.path("scaledObject").asText(), t.path("kind").asText(),
                t.path("name").asText(), t.path("replicas").asInt(), t.path("minReplicaCount").asInt(), t.path("maxReplicaCount").asInt());
        out.printf("decision: %s replicas: %s%n", d.path("decision").path("replicas").asText("?"), d.path("decision").path("reason").asText());
        triggersTable(out, d);
        JsonNode hpa = d.path("hpa");
        out.printf("%nhpa %s: %s%n", hpa.path("name").asText(), hpa.has("error") ? hpa.path("error").asText()
                : "desired " + hpa.path("desiredReplicas").asText() + ", current " + hpa.path("currentReplicas").asText());
        for (JsonNode c : hpa.path("conditions")) {
            out.printf("  %s=%s %s: %s%n", c.path("type").asText(), c.path("status").asText(), c.path("reason").asText(),
                    c.path("message").asText());
        }
        out.printf("cooldown: %ss remaining of %ss; paused: %s; fallback configured: %s%n",
                d.path("cooldown").path("remainingSeconds").asText(), d.path("cooldown").path("cooldownPeriodSeconds").asText(),
                d.path("state").path("paused").asBoolean(), d.path("state").path("fallbackConfigured").asBoolean());
        conditions(out, d, ReconcilePlanner.CONDITION_TYPES);
        events(out, d);
        out.flush();
    }

    /** The status conditions of {@code types} the object has, one line each. */
    private static void conditions(PrintWriter out, JsonNode d, List<String> types) {
        for (String type : types) {
            JsonNode c = d.path("state").path(type);
            if (!c.isMissingNode()) {
                out.printf("  %s=%s %s%s%n", type, c.path("status").asText(), c.path("reason").asText(),
                        c.path("message").asText().isEmpty() ? "" : ": " + c.path("message").asText());
            }
        }
    }

    private static void events(PrintWriter out, JsonNode d) {
        out.println("events:");
        for (JsonNode e : d.path("events")) {
            out.printf("  %s %s: %s%n", e.path("type").asText(), e.path("reason").asText(), e.path("message").asText());
        }
    }

    /** Each trigger: its metric and group, its top partitions, why it is or is not active. */
    private static void triggersTable(PrintWriter out, JsonNode d) {
        for (JsonNode tr : d.path("triggers")) {
            out.printf("%ntrigger %d (%s)%s%n", tr.path("index").asInt(), tr.path("type").asText(),
                    tr.has("metric") ? ": " + tr.path("metric").asText() + ", group " + tr.path("consumerGroup").asText() : "");
            if (tr.has("error")) {
                out.println("  error: " + tr.path("error").asText());
                continue;
            }
            if (tr.has("topPartitions") && !tr.path("topPartitions").isEmpty()) {
                out.printf("  %-28s %9s %12s %12s %10s%n", "TOPIC", "PARTITION", "COMMITTED", "LOG-END", "LAG");
                for (JsonNode p : tr.path("topPartitions")) {
                    out.printf("  %-28s %9d %12s %12s %10d%n", p.path("topic").asText(), p.path("partition").asInt(),
                            p.path("committed").isNull() ? "-" : p.path("committed").asText(),
                            p.path("logEnd").isNull() ? "-" : p.path("logEnd").asText(), p.path("lag").asLong());
                }
            }
            if (tr.has("why")) {
                tr.path("why").asText().lines().forEach(l -> out.println("  " + l));
            }
            if (tr.has("drainSizing")) {
                out.println("  drainWithinSeconds (the operator's last sizing): " + tr.path("drainSizing").asText());
            }
        }
    }

    /** A ScaledJob's human view. */
    static void jobTable(PrintWriter out, JsonNode d) {
        JsonNode decision = d.path("decision");
        out.printf("%s (strategy %s, %s of %s triggers; min %d, max %d Jobs)%n", d.path("scaledJob").asText(),
                d.path("strategy").asText(), d.path("multipleScalersCalculation").asText(), d.path("triggers").size(),
                d.path("minReplicaCount").asInt(), d.path("maxReplicaCount").asInt());
        out.printf("decision: create %s Jobs: %s%n", decision.path("jobsToCreate").asText("?"), decision.path("reason").asText());
        out.printf("queue length %s, running %s (pending %s), effective max %s%n", decision.path("queueLength").asText("?"),
                decision.path("runningJobCount").asText("?"), decision.path("pendingJobCount").asText("?"),
                decision.path("effectiveMaxScale").asText("?"));
        triggersTable(out, d);
        out.printf("%njobs:%n");
        for (JsonNode j : d.path("jobs")) {
            out.printf("  %-40s %-10s %s%n", j.path("name").asText(), j.path("state").asText(),
                    j.path("finishedAt").isNull() ? "" : j.path("finishedAt").asText());
        }
        if (!decision.path("jobsToDelete").isEmpty()) {
            out.println("history beyond its limits (deleted next pass): " + decision.path("jobsToDelete"));
        }
        out.printf("paused: %s%n", d.path("state").path("paused").asBoolean());
        conditions(out, d, List.of("Ready", "Active", "Paused"));
        events(out, d);
        out.flush();
    }

    /**
     * A keda.sh object as the apiserver sent it (through the dynamic client: Gson's typed conversion would turn 2
     * into 2.0), or null when it does not exist.
     */
    private static JsonNode raw(ApiClient client, String plural, String namespace, String name) {
        var api = new DynamicKubernetesApi("keda.sh", "v1alpha1", plural, client);
        var response = namespace == null ? api.get(name) : api.get(namespace, name);
        return response.isSuccess() ? readTree(response.getObject().getRaw().toString()) : null;
    }

    /** Where ClusterTriggerAuthentications' Secrets live: the operator's namespace. */
    private static String clusterObjectNamespace() {
        String ns = System.getenv("LAGSCALER_NAMESPACE");
        return ns == null || ns.isBlank() ? "lagscaler" : ns;
    }

    private static JsonNode readTree(String json) {
        try {
            return JSON.readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return null;
        }
    }
}
