package dev.lagscaler.cli;

import dev.lagscaler.adapter.ExternalMetricsServer;
import dev.lagscaler.adapter.MetricsAdapter;
import dev.lagscaler.controller.Operator;
import dev.lagscaler.controller.OperatorConfig;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.metrics.MetricsFeedServer;
import dev.lagscaler.scaling.ScaledObjectParser;
import dev.lagscaler.scaling.ScaledObjectSpec;
import dev.lagscaler.tls.Pki;
import dev.lagscaler.lag.TriggerKey;
import dev.lagscaler.lag.TriggerResult;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.trigger.KafkaTriggerParser;
import dev.lagscaler.trigger.KafkaTriggerSettings;
import dev.lagscaler.trigger.TriggerInput;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lagscaler demo}: the product on an embedded default, with no cluster needed: a real local Kafka broker, a
 * real local control plane and the operator, acting on the seed ScaledObject: to zero, then back on records.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Runs lagscaler's main job on an embedded Kafka broker and local control plane:",
                "the operator scales the seed ScaledObject's Deployment to zero and back from zero on records."})
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--hold", description = "Keep everything running and watch the lag until interrupted.")
    boolean hold;

    @Option(names = "--records", defaultValue = "400", description = "Records to produce (default ${DEFAULT-VALUE}).")
    int records;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        out.println("starting an embedded Kafka broker and a local control plane...");
        out.flush();
        try (EmbeddedKafka kafka = EmbeddedKafka.start(EmbeddedKafka.Options.singleNode());
             LocalControlPlane plane = LocalControlPlane.start(LocalControlPlane.Options.temporary());
             LagEngine engine = new LagEngine(LagEngine.Options.defaults())) {
            out.printf("kafka: %s (started in %d ms)%ncontrol plane: %s (started in %d ms)%n  kubectl --kubeconfig %s get so,hpa,deploy%n",
                    kafka.bootstrapServers(), kafka.startupTime().toMillis(), plane.url(),
                    plane.startupTime().toMillis(), plane.kubeconfig());
            String bootstrap = kafka.bootstrapServers();
            int partitions = 10;
            Pki.Issued ca = Pki.ca("lagscaler-demo-adapter-ca");
            Pki.Issued serving = Pki.server(ca, "lagscaler-metrics", List.of("lagscaler-metrics.lagscaler-metrics.svc",
                    "localhost"), List.of("127.0.0.1"));
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
                 MetricsFeedServer feed = MetricsFeedServer.start("127.0.0.1", 0);
                 Operator operator = new Operator(watchingClient(plane), engine, OperatorConfig.defaults("demo"), feed);
                 MetricsAdapter adapter = MetricsAdapter.start(plane.apiClient(), "127.0.0.1", feed.port(),
                         new ExternalMetricsServer.Options("127.0.0.1", 0, serving.certificatePem(), serving.privateKeyPem()))) {
                plane.registerExternalMetrics(adapter.port(), ca.certificatePem());
                out.println("metrics adapter: https://127.0.0.1:" + adapter.port() + " (external.metrics.k8s.io, fed by the operator over gRPC)");
                admin.createTopics(List.of(new NewTopic("events", partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
                Map<TopicPartition, OffsetAndMetadata> consumed = new HashMap<>();
                for (int p = 0; p < partitions; p++) {
                    consumed.put(new TopicPartition("events", p), new OffsetAndMetadata(0));
                }
                admin.alterConsumerGroupOffsets("my-group", consumed).all().get(30, TimeUnit.SECONDS);
                plane.kubectl("create", "deployment", "consumer-deployment", "--image=consumer:1.0", "--replicas=1");
                operator.start();
                Path manifest = Files.createTempFile("seed-", ".yaml");
                Files.writeString(manifest, SEED.replace("kafka.default.svc:9092", bootstrap));
                plane.kubectl("apply", "-f", manifest.toString());
                Files.delete(manifest);
                out.println("\napplied the seed ScaledObject (bootstrapServers pointed at the embedded broker):");
                out.println(SEED.indent(2));

                step(out, plane, "the topic is drained and the object was never active: scaling to zero", 0);
                long produced = System.nanoTime();
                produce(bootstrap, "events", partitions, records);
                step(out, plane, "produced " + records + " records: activating from zero", 1);
                out.printf("  (%d ms from produce to replicas >= 1)%n", (System.nanoTime() - produced) / 1_000_000);
                step(out, plane, "the HPA reads s0-kafka-events = " + records + " through the metrics adapter: "
                        + "ceil(" + records + " / 50) replicas", Math.min(10, (records + 49) / 50));
                out.println();

                // The trigger the operator acts on, read from the applied manifest rather than restated here.
                ScaledObjectSpec.TriggerSpec trigger = ScaledObjectParser.parse(
                        YAML.readTree(SEED.replace("kafka.default.svc:9092", bootstrap))).triggers().get(0);
                KafkaTriggerSettings settings = KafkaTriggerParser.parse(TriggerInput.ofMetadata(trigger.metadata()));
                TriggerResult last = LagCommand.poll(settings, new TriggerKey("default", "kafka-scaledobject", 0),
                        hold ? Duration.ofSeconds(5) : null, result -> {
                            LagCommand.print(out, settings, result);
                            out.println();
                            out.println(plane.kubectl("get", "scaledobject,hpa,deployment").strip());
                            out.println();
                            out.flush();
                        });
                return last instanceof TriggerResult.Measured ? 0 : 1;
            }
        }
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper YAML =
            new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory());

    private static final String SEED = """
            apiVersion: keda.sh/v1alpha1
            kind: ScaledObject
            metadata:
              name: kafka-scaledobject
            spec:
              scaleTargetRef:
                name: consumer-deployment
              triggers:
              - type: kafka
                metadata:
                  bootstrapServers: kafka.default.svc:9092
                  consumerGroup: my-group
                  topic: events
                  lagThreshold: "50"
            """;

    private static void step(PrintWriter out, LocalControlPlane plane, String what, int replicas) throws Exception {
        out.println(what + "...");
        out.flush();
        ChildProcess.await("consumer-deployment at " + replicas + " replicas", Duration.ofSeconds(60), Duration.ofMillis(50),
                () -> plane.kubectl("get", "deployment", "consumer-deployment", "-o", "jsonpath={.spec.replicas}").trim()
                        .equals(String.valueOf(replicas)));
        out.println("  consumer-deployment: spec.replicas = " + replicas);
    }

    private static io.kubernetes.client.openapi.ApiClient watchingClient(LocalControlPlane plane) throws java.io.IOException {
        var client = plane.apiClient();
        client.setReadTimeout(0);
        return client;
    }

    private static void produce(String bootstrap, String topic, int partitions, int count) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            for (int i = 0; i < count; i++) {
                producer.send(new ProducerRecord<>(topic, i % partitions, null, "event-" + i));
            }
            producer.flush();
        }
    }
}
