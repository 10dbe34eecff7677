package dev.lagscaler.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lagscaler.adapter.AdapterMetrics;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.metrics.OperatorMetrics;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.DevScripts;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.Prometheus;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The Grafana dashboard and the alerting rules, proven on a real Prometheus (2.42, Debian's build): it scrapes a
 * running operator and adapter while the real HPA scales a real backlog on the real control plane; then every panel
 * query, every variable and every annotation of {@code deploy/grafana/lagscaler.json} goes through Prometheus' HTTP
 * API (each parses; each panel query and variable returns data), and every rule of
 * {@code deploy/prometheus/alerts.yaml} passes {@code promtool check rules}, loads in the server with health ok, and
 * reads only series that exist.
 */
@Tag("prometheus")
@WithKafka
@WithControlPlane
class DashboardTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern METRIC = Pattern.compile("\\b((?:lagscaler|keda)_[a-z_]+)\\b");
    private static final Pattern LABEL_VALUES = Pattern.compile("label_values\\((.*),\\s*([a-z_]+)\\)");

    @Test
    void everyPanelQueryAndAlertRunsOnRealPrometheus(EmbeddedKafka kafka, LocalControlPlane plane) throws Exception {
        Path repo = DevScripts.repoRoot();
        Path alerts = repo.resolve("deploy/prometheus/alerts.yaml");
        JsonNode dashboard = JSON.readTree(repo.resolve("deploy/grafana/lagscaler.json").toFile());
        assertTrue(Prometheus.checkRules(alerts).contains("SUCCESS"), "promtool check rules");

        String ns = "dashboard";
        String topic = "dashboard-events";
        ExternalMetricsEndToEndTest.consumerAndTopic(plane, kafka, ns, topic, "dashboard-group", 10);
        PrometheusRegistry operatorRegistry = new PrometheusRegistry();
        PrometheusRegistry adapterRegistry = new PrometheusRegistry();
        try (HpaStack stack = HpaStack.start(plane, "dashboard", LagEngine.Options.defaults(),
                     new OperatorMetrics(operatorRegistry, true), new AdapterMetrics(adapterRegistry));
             HTTPServer operatorMetrics = HTTPServer.builder().hostname("127.0.0.1").port(0)
                     .registry(operatorRegistry).buildAndStart();
             HTTPServer adapterMetrics = HTTPServer.builder().hostname("127.0.0.1").port(0)
                     .registry(adapterRegistry).buildAndStart();
             Prometheus prometheus = Prometheus.start(
                     List.of("127.0.0.1:" + operatorMetrics.getPort(), "127.0.0.1:" + adapterMetrics.getPort()),
                     List.of(alerts))) {
            ExternalMetricsEndToEndTest.apply(plane, ns, ExternalMetricsEndToEndTest.fastHpaScaledObject(
                    kafka.bootstrapServers(), "dashboard-group", topic));
            // The first poll sees the empty log: the log-end history then reaches back to the committed offsets,
            // so the time lag is known once records wait.
            awaitValue(prometheus, "sum(lagscaler_trigger_lag_records{namespace=\"dashboard\"})", 0);
            for (int p = 0; p < 10; p++) {
                KafkaTestData.produce(kafka.bootstrapServers(), topic, p, 40);
            }
            ChildProcess.await("the HPA raises the Deployment to 8", Duration.ofSeconds(120), Duration.ofMillis(500),
                    () -> ExternalMetricsEndToEndTest.replicas(plane, ns) == 8);

            // The series tell the truth: 400 records behind, 8 replicas, served as 400.
            awaitValue(prometheus, "sum(lagscaler_trigger_lag_records{namespace=\"dashboard\"})", 400);
            awaitValue(prometheus, "sum(lagscaler_trigger_topic_lag_records{namespace=\"dashboard\", topic=\"dashboard-events\"})", 400);
            awaitValue(prometheus, "max(keda_scaler_metrics_value{namespace=\"dashboard\", metric=\"s0-kafka-dashboard-events\"})", 400);
            awaitValue(prometheus, "max(lagscaler_scaledobject_current_replicas{namespace=\"dashboard\"})", 8);
            awaitValue(prometheus, "count(lagscaler_partition_lag_records{namespace=\"dashboard\"})", 10);

            // A ScaledJob beside it, for the ScaledJobs row: 30 records at 10 a Job (their pods never run here).
            KafkaTestData.createTopic(kafka.bootstrapServers(), "dashboard-batches", 3);
            KafkaTestData.commit(kafka.bootstrapServers(), "dashboard-batch-group", Map.of(
                    new TopicPartition("dashboard-batches", 0), 0L, new TopicPartition("dashboard-batches", 1), 0L,
                    new TopicPartition("dashboard-batches", 2), 0L));
            for (int p = 0; p < 3; p++) {
                KafkaTestData.produce(kafka.bootstrapServers(), "dashboard-batches", p, 10);
            }
            ExternalMetricsEndToEndTest.apply(plane, ns, """
                    apiVersion: keda.sh/v1alpha1
                    kind: ScaledJob
                    metadata: {name: dashboard-batches}
                    spec:
                      jobTargetRef:
                        template:
                          spec:
                            containers: [{name: consumer, image: "consumer:1.0"}]
                            restartPolicy: Never
                      pollingInterval: 1
                      triggers:
                      - type: kafka
                        metadata: {bootstrapServers: "%s", consumerGroup: dashboard-batch-group, topic: dashboard-batches,
                                   lagThreshold: "10"}
                    """.formatted(kafka.bootstrapServers()));
            awaitValue(prometheus, "sum(lagscaler_scaledjob_jobs{namespace=\"dashboard\", scaledjob=\"dashboard-batches\"})", 3);

            Map<String, String> queries = dashboardQueries(dashboard);
            List<String> failures = new ArrayList<>();
            for (Map.Entry<String, String> q : queries.entrySet()) {
                String promql = q.getValue();
                try {
                    ChildProcess.await(q.getKey() + " returns data", Duration.ofSeconds(90), Duration.ofSeconds(1),
                            () -> hasData(prometheus.query(promql)));
                } catch (IOException e) {
                    failures.add(q.getKey() + ": " + promql + " -> " + prometheus.query(promql));
                }
            }
            for (JsonNode annotation : dashboard.path("annotations").path("list")) {
                JsonNode answer = prometheus.query(substitute(annotation.path("expr").asText()));
                if (!answer.path("status").asText().equals("success")) {
                    failures.add("annotation " + annotation.path("name").asText() + ": " + answer);
                }
            }
            failures.addAll(checkAlerts(prometheus, alerts));

            // KEDA's own dashboard, as KEDA ships it, reads our /metrics: every keda_* panel and variable has data.
            JsonNode keda = JSON.readTree(Path.of(DevScripts.run("keda-dashboard.sh", Duration.ofMinutes(10))).toFile());
            Map<String, String> kedaQueries = kedaDashboardQueries(keda);
            for (Map.Entry<String, String> q : kedaQueries.entrySet()) {
                try {
                    ChildProcess.await("KEDA's " + q.getKey() + " returns data", Duration.ofSeconds(90),
                            Duration.ofSeconds(1), () -> hasData(prometheus.query(q.getValue())));
                } catch (IOException e) {
                    failures.add("KEDA's " + q.getKey() + ": " + q.getValue() + " -> " + prometheus.query(q.getValue()));
                }
            }
            JsonNode scalers = prometheus.query("group by (scaler) (keda_scaler_active{exported_namespace=\"dashboard\"})");
            assertEquals("kafkaScaler", scalers.path("data").path("result").get(0).path("metric").path("scaler").asText(),
                    "an unnamed kafka trigger's scaler label is KEDA's scaler type name: " + scalers);
            // KEDA's registration, build and latency series beside them.
            for (String promql : List.of("keda_build_info == 1",
                    "keda_resource_registered_total{type=\"scaled_object\", namespace=\"dashboard\"} == 1",
                    "keda_trigger_registered_total{type=\"kafka\"} >= 1",
                    "keda_scaler_metrics_latency_seconds{exported_namespace=\"dashboard\"} > 0")) {
                try {
                    ChildProcess.await(promql, Duration.ofSeconds(60), Duration.ofSeconds(1),
                            () -> hasData(prometheus.query(promql)));
                } catch (IOException e) {
                    failures.add(promql + " -> " + prometheus.query(promql));
                }
            }
            assertEquals(List.of(), failures, "dashboard queries and alert rules that failed");
            assertTrue(queries.size() >= 35, "every panel target and variable was checked: " + queries.size());
            assertTrue(kedaQueries.size() >= 8, "KEDA's keda_* panels and its variables were checked: " + kedaQueries);
        }
    }

    /** Every panel target (by panel title and refId) and every query variable, as Grafana would send them. */
    static Map<String, String> dashboardQueries(JsonNode dashboard) {
        Map<String, String> queries = new LinkedHashMap<>();
        for (JsonNode panel : dashboard.path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                queries.put(panel.path("title").asText() + " " + target.path("refId").asText(),
                        substitute(target.path("expr").asText()));
            }
        }
        for (JsonNode variable : dashboard.path("templating").path("list")) {
            if (!variable.path("type").asText().equals("query")) {
                continue;
            }
            Matcher m = LABEL_VALUES.matcher(variable.path("query").path("query").asText());
            assertTrue(m.matches(), "a label_values() variable: " + variable);
            queries.put("variable " + variable.path("name").asText(), "group by (" + m.group(2) + ") (" + substitute(m.group(1)) + ")");
        }
        return queries;
    }

    private static final Pattern KEDA_LABEL_VALUES = Pattern.compile("label_values\\((.*),\\s*([A-Za-z_]+)\\)");

    /**
     * The queries of KEDA's dashboard that read KEDA's series, with its variables set to the test's object. Its
     * replica panels read kube-state-metrics ({@code kube_horizontalpodautoscaler_*}), which neither KEDA nor
     * lagscaler exports: they are left out here, and work wherever kube-state-metrics runs.
     */
    static Map<String, String> kedaDashboardQueries(JsonNode dashboard) {
        Map<String, String> queries = new LinkedHashMap<>();
        for (JsonNode panel : dashboard.path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                String expr = target.path("expr").asText();
                if (expr.contains("keda_")) {
                    queries.put(panel.path("title").asText() + " " + target.path("refId").asText(), kedaSubstitute(expr));
                } else {
                    assertTrue(expr.startsWith("kube_") || expr.contains("(kube_"), "a kube-state-metrics query: " + expr);
                }
            }
        }
        for (JsonNode variable : dashboard.path("templating").path("list")) {
            if (!variable.path("type").asText().equals("query")) {
                continue;
            }
            Matcher m = KEDA_LABEL_VALUES.matcher(variable.path("query").path("query").asText());
            assertTrue(m.matches(), "a label_values() variable: " + variable);
            queries.put("variable " + variable.path("name").asText(),
                    "group by (" + m.group(2) + ") (" + kedaSubstitute(m.group(1)) + ")");
        }
        return queries;
    }

    private static String kedaSubstitute(String expr) {
        return expr.replace("$namespace", "dashboard").replace("$scaledObject", "kafka-scaledobject")
                .replace("$scaler", ".*").replace("$metric", ".*");
    }

    /** Grafana's variables with "All" selected, and its rate interval for a 1 s scrape. */
    static String substitute(String expr) {
        return expr.replace("$__rate_interval", "1m").replace("$namespace", ".*").replace("$scaledobject", ".*")
                .replace("$scaledjob", ".*").replace("$consumer_group", ".*");
    }

    private static List<String> checkAlerts(Prometheus prometheus, Path alerts) throws Exception {
        long written = Files.readAllLines(alerts).stream().filter(l -> l.trim().startsWith("- alert:")).count();
        List<String> failures = new ArrayList<>();
        JsonNode groups = prometheus.rules().path("data").path("groups");
        int rules = 0;
        for (JsonNode group : groups) {
            for (JsonNode rule : group.path("rules")) {
                rules++;
                String name = rule.path("name").asText();
                if (!rule.path("health").asText().equals("ok")) {
                    failures.add("alert " + name + " health " + rule.path("health").asText() + ": " + rule.path("lastError"));
                }
                String expr = rule.path("query").asText();
                JsonNode answer = prometheus.query(expr);
                if (!answer.path("status").asText().equals("success")) {
                    failures.add("alert " + name + " does not run: " + answer);
                }
                Set<String> metrics = new LinkedHashSet<>();
                Matcher m = METRIC.matcher(expr);
                while (m.find()) {
                    metrics.add(m.group(1));
                }
                if (metrics.isEmpty()) {
                    failures.add("alert " + name + " reads no lagscaler series: " + expr);
                }
                for (String metric : metrics) {
                    if (!hasData(prometheus.query("count(" + metric + ")"))) {
                        failures.add("alert " + name + " reads " + metric + ", which has no series");
                    }
                }
            }
        }
        if (rules != written) {
            failures.add("expected the " + written + " alerting rules of alerts.yaml loaded, found " + rules);
        }
        return failures;
    }

    private static boolean hasData(JsonNode answer) {
        return answer.path("status").asText().equals("success") && answer.path("data").path("result").size() > 0;
    }

    private static void awaitValue(Prometheus prometheus, String promql, double expected) throws IOException {
        ChildProcess.await(promql + " == " + expected, Duration.ofSeconds(60), Duration.ofMillis(500), () -> {
            JsonNode result = prometheus.query(promql).path("data").path("result");
            return result.size() == 1 && Double.parseDouble(result.get(0).path("value").get(1).asText()) == expected;
        });
    }
}
