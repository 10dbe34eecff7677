package dev.lagscaler.testing;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Starts the real Kafka cluster a {@link WithKafka} class asks for, once per test JVM. The embedded broker is the
 * default; with {@code -Dlagscaler.kafka=testcontainers} (or {@code LAGSCALER_KAFKA=testcontainers}) a
 * Testcontainers broker is used instead, and the classes skip with the reason when no Docker engine is present.
 */
public final class KafkaExtension implements BeforeAllCallback, BeforeEachCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(KafkaExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        holder(context);
    }

    /** Skips each test (so reports count it as skipped, with the reason) when the requested Kafka cannot run here. */
    @Override
    public void beforeEach(ExtensionContext context) {
        cluster(context);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == KafkaCluster.class || type == EmbeddedKafka.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        KafkaCluster cluster = cluster(context);
        if (parameter.getParameter().getType() == EmbeddedKafka.class && !(cluster instanceof EmbeddedKafka)) {
            throw new ParameterResolutionException("this test needs the embedded broker (it stops and restarts it)");
        }
        return cluster;
    }

    private static KafkaCluster cluster(ExtensionContext context) {
        Holder holder = holder(context);
        if (holder.skipReason != null) {
            Assumptions.abort(holder.skipReason);
        }
        return holder.cluster;
    }

    private static Holder holder(ExtensionContext context) {
        WithKafka spec = context.getRequiredTestClass().getAnnotation(WithKafka.class);
        int brokers = spec == null ? 1 : spec.brokers();
        String[] users = spec == null ? new String[0] : spec.scramUsers();
        boolean saslTls = spec != null && spec.saslTls();
        boolean acls = spec != null && spec.aclAuthorizer();
        boolean onNode = spec != null && spec.onNode();
        boolean containers = "testcontainers".equals(System.getProperty("lagscaler.kafka",
                System.getenv().getOrDefault("LAGSCALER_KAFKA", "embedded")));
        String key = (containers ? "container" : "embedded") + ":" + brokers + ":" + Arrays.toString(users) + ":" + saslTls
                + ":" + acls + ":" + onNode;
        ExtensionContext.Store store = context.getRoot().getStore(NAMESPACE);
        return store.getOrComputeIfAbsent(key, k -> new Holder(containers, brokers, users, saslTls, acls, onNode),
                Holder.class);
    }

    /** Owns one cluster; JUnit closes it when the test JVM's run ends. */
    private static final class Holder implements AutoCloseable {
        private final KafkaCluster cluster;
        private final String skipReason;

        Holder(boolean containers, int brokers, String[] users, boolean saslTls, boolean acls, boolean onNode) {
            if (containers) {
                String reason = ContainerKafka.unavailableReason();
                this.skipReason = reason;
                this.cluster = reason == null ? ContainerKafka.start() : null;
                return;
            }
            Map<String, String> scram = new LinkedHashMap<>();
            for (String user : users) {
                int eq = user.indexOf('=');
                scram.put(user.substring(0, eq), user.substring(eq + 1));
            }
            try {
                EmbeddedKafka.Options options = EmbeddedKafka.Options.singleNode().withBrokers(brokers)
                        .withScramUsers(scram).withSaslTls(saslTls);
                if (onNode) {
                    LocalNode.prepare(); // the node's address exists once its bridge does
                    options = options.withHost(LocalNode.ADDRESS);
                }
                this.cluster = EmbeddedKafka.start(acls ? options.withAclAuthorizer() : options);
                this.skipReason = null;
            } catch (java.io.IOException e) {
                throw new IllegalStateException("could not start the embedded Kafka broker: " + e.getMessage(), e);
            }
        }

        @Override
        public void close() {
            if (cluster != null) {
                cluster.close();
            }
        }
    }
}
