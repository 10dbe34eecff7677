package dev.lagscaler.controller;

import dev.lagscaler.Durations;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.metrics.MetricsFeedServer;
import dev.lagscaler.metrics.MetricsSink;
import dev.lagscaler.trigger.TriggerParseException;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.util.Config;
import java.net.InetAddress;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The operator process's entry point ({@code main}, what the operator image runs) and {@code lagscaler operator}:
 * the ScaledObject controller, until terminated. Exit codes: 0 stopped, 1 failed, 2 bad flags.
 */
@Command(name = "operator", mixinStandardHelpOptions = true,
        description = "Runs the ScaledObject controller (leader-elected) against a cluster.")
public final class OperatorCommand implements Callable<Integer> {
    static final int EXIT_BAD_INPUT = 2;

    /** picocli's defaults: usage errors print the message and usage on stderr and exit 2, like our other bad input. */
    public static void main(String[] args) {
        System.exit(new CommandLine(new OperatorCommand()).execute(args));
    }

    @Option(names = "--kubeconfig", description = "Kubeconfig file (default: in-cluster, then ~/.kube/config).")
    String kubeconfig;

    @Option(names = "--namespace", defaultValue = "${env:LAGSCALER_NAMESPACE:-lagscaler}",
            description = "Namespace of the leader Lease and of ClusterTriggerAuthentication Secrets (default ${DEFAULT-VALUE}).")
    String namespace;

    @Option(names = "--fast-activation-interval", defaultValue = "1s",
            description = "Polling interval for targets at zero (default ${DEFAULT-VALUE}).")
    String fastInterval;

    @Option(names = "--lease-duration", defaultValue = "15s", description = "Leader lease duration (default ${DEFAULT-VALUE}).")
    String leaseDuration;

    @Option(names = "--identity", description = "Leader election identity (default: host name and a random suffix).")
    String identity;

    @Option(names = "--metrics-feed", defaultValue = "0.0.0.0:9090",
            description = "host:port of the gRPC feed the metrics adapter subscribes to, or 'off' (default ${DEFAULT-VALUE}).")
    String metricsFeed;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        OperatorConfig config;
        try {
            String id = identity != null ? identity
                    : InetAddress.getLocalHost().getHostName() + "-" + UUID.randomUUID().toString().substring(0, 6);
            config = OperatorConfig.defaults(id).withNamespace(namespace)
                    .withFastActivationInterval(Durations.parse("--fast-activation-interval", fastInterval))
                    .withLeaseDuration(Durations.parse("--lease-duration", leaseDuration));
        } catch (TriggerParseException e) {
            spec.commandLine().getErr().println("lagscaler operator: " + e.getMessage());
            return EXIT_BAD_INPUT;
        }
        ApiClient client = kubeconfig != null ? Config.fromConfig(kubeconfig) : Config.defaultClient();
        client.setReadTimeout(0); // watches stay open
        MetricsFeedServer feed = null;
        if (!metricsFeed.equals("off")) {
            int colon = metricsFeed.lastIndexOf(':');
            if (colon <= 0 || !metricsFeed.substring(colon + 1).matches("\\d{1,5}")) {
                spec.commandLine().getErr().println("lagscaler operator: --metrics-feed must be host:port or off");
                return EXIT_BAD_INPUT;
            }
            try {
                feed = MetricsFeedServer.start(metricsFeed.substring(0, colon), Integer.parseInt(metricsFeed.substring(colon + 1)));
            } catch (RuntimeException e) {
                spec.commandLine().getErr().println("lagscaler operator: --metrics-feed " + metricsFeed + ": " + e.getMessage());
                return EXIT_BAD_INPUT;
            }
        }
        try (MetricsFeedServer feedToClose = feed;
             LagEngine engine = new LagEngine(LagEngine.Options.defaults());
             Operator operator = new Operator(client, engine, config, feed == null ? MetricsSink.NONE : feed)) {
            // Losing the lease means another process may already act: stop at once and let the restart rejoin.
            operator.onLostLeadership(() -> Runtime.getRuntime().halt(1));
            Runtime.getRuntime().addShutdownHook(new Thread(operator::close));
            operator.start();
            operator.awaitStop();
        }
        return 0;
    }
}
