package dev.lagscaler.controller;

import dev.lagscaler.Durations;
import dev.lagscaler.lag.ConsumerHealth;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.feed.FeedTls;
import dev.lagscaler.metrics.MetricsFeedServer;
import dev.lagscaler.metrics.MetricsSink;
import dev.lagscaler.metrics.OperatorMetrics;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
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
        description = {"Runs the ScaledObject controller (leader-elected) against a cluster.", "",
                "Example:  operator --kubeconfig ~/.kube/config --namespace lagscaler --metrics-address 0.0.0.0:8080"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:stopped", "1:failed (or lost the lead: restart to rejoin)", "2:bad flags"})
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

    @Option(names = "--lease-duration", defaultValue = "6s",
            description = "Leader lease duration; renewals every sixth of it, at most 2 s (default ${DEFAULT-VALUE}).")
    String leaseDuration;

    @Option(names = "--identity", description = "Leader election identity (default: host name and a random suffix).")
    String identity;

    @Option(names = "--sharded", description = {"Active-active: every replica acts on its share of the ScaledObjects and",
            "ScaledJobs (a consistent-hash ring over the replicas' Leases) instead of one leader on all of them."})
    boolean sharded;

    @Option(names = "--shard-filter", defaultValue = "auto", paramLabel = "auto|operator",
            description = {"With --sharded: auto, the apiserver sends each replica only its share of the ScaledObjects",
                    "and ScaledJobs when it can (ShardedListAndWatch, Kubernetes 1.36+), else the replica keeps only its",
                    "share of what it receives; operator, always the latter (default ${DEFAULT-VALUE})."})
    String shardFilter;

    @Option(names = "--lease-owner", paramLabel = "STATEFULSET",
            description = "The StatefulSet in --namespace that owns the leader Lease, so uninstalling it removes the Lease (the chart sets it).")
    String leaseOwner;

    @Option(names = "--metrics-feed", defaultValue = "0.0.0.0:9090",
            description = "host:port of the gRPC feed the metrics adapter subscribes to, or 'off' (default ${DEFAULT-VALUE}).")
    String metricsFeed;

    @Option(names = "--health-address", defaultValue = "0.0.0.0:8081",
            description = "host:port of /healthz and /readyz, or 'off' (default ${DEFAULT-VALUE}).")
    String healthAddress;

    @Option(names = "--wake-up-consumer", defaultValue = "true", negatable = true, fallbackValue = "true",
            description = "Park one consumer per Kafka cluster on the partitions of targets at zero, so the first record"
                    + " activates them at once (polling stays the fallback; default on).")
    boolean wakeUpConsumer;

    @Option(names = "--metrics-address", defaultValue = "0.0.0.0:8080",
            description = "host:port of the Prometheus /metrics endpoint, or 'off' (default ${DEFAULT-VALUE}).")
    String metricsAddress;

    @Option(names = "--metrics-partition-lag",
            description = "Also export lag per partition: one series per partition of every trigger (off by default).")
    boolean partitionLag;

    @Option(names = "--consumer-health-window", defaultValue = "10",
            description = "Polls a consumer group's lag must grow at, in a row, to be WARN (default ${DEFAULT-VALUE}).")
    int healthWindow;

    @Option(names = "--consumer-stall-after", defaultValue = "60s",
            description = "How long a committed offset may stand while records wait before the group is STALL; a"
                    + " stalled group's replicas are held, not raised (default ${DEFAULT-VALUE}).")
    String stallAfter;

    @Option(names = "--consumer-stop-after", defaultValue = "5m",
            description = "How long before a standing committed offset is STOP (default ${DEFAULT-VALUE}).")
    String stopAfter;

    @Option(names = "--request-timeout", defaultValue = "30s",
            description = "Read timeout of every apiserver call except watches (default ${DEFAULT-VALUE}).")
    String requestTimeout;

    @Option(names = "--feed-cert", description = "PEM serving certificate for the feed's mutual TLS (with --feed-key and"
            + " --feed-ca; without them the feed is plaintext: local runs only). Reloaded when the file changes.")
    java.nio.file.Path feedCert;

    @Option(names = "--feed-key", description = "PEM private key of --feed-cert.")
    java.nio.file.Path feedKey;

    @Option(names = "--feed-ca", description = "PEM CA that client certificates of the feed are checked against.")
    java.nio.file.Path feedCa;

    @Option(names = "--feed-client", defaultValue = "lagscaler-metrics-adapter",
            description = "The name (common name or DNS name) a feed client's certificate must carry (default"
                    + " ${DEFAULT-VALUE}).")
    String feedClient;

    @Option(names = "--workers", defaultValue = "" + OperatorConfig.DEFAULT_WORKERS,
            description = "ScaledObject reconciles run at once (default ${DEFAULT-VALUE}). Each mostly waits on the"
                    + " apiserver, so more workers raise how many targets a burst of records activates per second.")
    int workers;

    @Option(names = "--cache-sync-timeout", defaultValue = "2m",
            description = "How long a new leader's caches may take to sync; past it, it gives the Lease up and exits"
                    + " (default ${DEFAULT-VALUE}).")
    String cacheSyncTimeout;

    @Option(names = "--webhook-address", defaultValue = "0.0.0.0:9443",
            description = "host:port of the ScaledObject validating admission webhook (HTTPS), served when --webhook-cert"
                    + " and --webhook-key are given (default ${DEFAULT-VALUE}).")
    String webhookAddress;

    @Option(names = "--webhook-cert", description = "PEM serving certificate of the admission webhook (reloaded when it"
            + " changes); without it no webhook is served.")
    java.nio.file.Path webhookCert;

    @Option(names = "--webhook-key", description = "PEM private key of --webhook-cert.")
    java.nio.file.Path webhookKey;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    private int workers() throws TriggerParseException {
        if (workers < 1 || workers > 256) {
            throw new TriggerParseException("--workers takes 1 to 256, got " + workers);
        }
        return workers;
    }

    private OperatorConfig.Sharding sharding() throws TriggerParseException {
        if (!sharded) {
            return null;
        }
        if (!shardFilter.equals("auto") && !shardFilter.equals("operator")) {
            throw new TriggerParseException("--shard-filter takes auto or operator, got \"" + shardFilter + "\"");
        }
        return new OperatorConfig.Sharding(shardFilter.equals("auto"));
    }

    @Override
    public Integer call() throws Exception {
        OperatorConfig config;
        java.time.Duration timeout;
        ConsumerHealth.Settings consumerHealth;
        try {
            timeout = Durations.parse("--request-timeout", requestTimeout);
            consumerHealth = consumerHealth();
            String id = identity != null ? identity
                    : InetAddress.getLocalHost().getHostName() + "-" + UUID.randomUUID().toString().substring(0, 6);
            config = OperatorConfig.defaults(id).withNamespace(namespace)
                    .withFastActivationInterval(Durations.parse("--fast-activation-interval", fastInterval))
                    .withLeaseDuration(Durations.parse("--lease-duration", leaseDuration))
                    .withWakeUpConsumer(wakeUpConsumer)
                    .withCacheSyncTimeout(Durations.parse("--cache-sync-timeout", cacheSyncTimeout))
                    .withSharding(sharding())
                    .withWorkers(workers());
        } catch (TriggerParseException e) {
            spec.commandLine().getErr().println("lagscaler operator: " + e.getMessage());
            return EXIT_BAD_INPUT;
        }
        if ((webhookCert == null) != (webhookKey == null)) {
            spec.commandLine().getErr().println("lagscaler operator: --webhook-cert and --webhook-key go together");
            return EXIT_BAD_INPUT;
        }
        if (!validAddress(metricsFeed) || !validAddress(healthAddress) || !validAddress(metricsAddress)
                || !validAddress(webhookAddress)) {
            spec.commandLine().getErr().println(
                    "lagscaler operator: --metrics-feed, --health-address, --metrics-address and --webhook-address take"
                            + " host:port or off");
            return EXIT_BAD_INPUT;
        }
        // Watches stay open (no read timeout); every other call has one, so a hung connection cannot pin a worker.
        ApiClient watches = kubeconfig != null ? Config.fromConfig(kubeconfig) : Config.defaultClient();
        watches.setReadTimeout(0);
        ApiClient requests = kubeconfig != null ? Config.fromConfig(kubeconfig) : Config.defaultClient();
        requests.setReadTimeout((int) timeout.toMillis());
        // Who wrote what, in the apiserver's audit log: the replica's identity.
        watches.setUserAgent("lagscaler-operator/" + config.identity());
        requests.setUserAgent("lagscaler-operator/" + config.identity());
        MetricsFeedServer feed = null;
        HealthServer health = null;
        PrometheusRegistry registry = new PrometheusRegistry();
        JvmMetrics.builder().register(registry);
        OperatorMetrics observed = new OperatorMetrics(registry, partitionLag);
        HTTPServer metricsServer = null;
        if (!metricsAddress.equals("off")) {
            try {
                metricsServer = HTTPServer.builder().hostname(host(metricsAddress)).port(port(metricsAddress))
                        .registry(registry).buildAndStart();
            } catch (java.io.IOException e) {
                spec.commandLine().getErr().println("lagscaler operator: --metrics-address " + metricsAddress + ": " + e.getMessage());
                return EXIT_BAD_INPUT;
            }
        }
        try (LagEngine engine = new LagEngine(LagEngine.Options.defaults().withConsumerHealth(consumerHealth))) {
            try {
                FeedTls feedTls = FeedTls.fromFlags(feedCert, feedKey, feedCa, feedClient);
                feed = metricsFeed.equals("off") ? null : MetricsFeedServer.start(host(metricsFeed), port(metricsFeed),
                        MetricsFeedServer.DEFAULT_MAX_SUBSCRIBERS, MetricsFeedServer.DEFAULT_STUCK_AFTER, feedTls);
            } catch (RuntimeException e) {
                spec.commandLine().getErr().println("lagscaler operator: --metrics-feed " + metricsFeed + ": " + e.getMessage());
                return EXIT_BAD_INPUT;
            }
            AdmissionWebhook webhook = null;
            if (webhookCert != null && !webhookAddress.equals("off")) {
                try {
                    webhook = AdmissionWebhook.start(host(webhookAddress), port(webhookAddress), webhookCert, webhookKey,
                            requests);
                } catch (Exception e) {
                    spec.commandLine().getErr().println("lagscaler operator: --webhook-address " + webhookAddress + ": "
                            + e.getMessage());
                    return EXIT_BAD_INPUT;
                }
            }
            Operator operator = new Operator(watches, requests, engine, config, feed == null ? MetricsSink.NONE : feed,
                    observed).leaseOwner(leaseOwner);
            if (!healthAddress.equals("off")) {
                health = HealthServer.start(host(healthAddress), port(healthAddress), operator);
            }
            // Losing the lease means another process may already act: stop at once and let the restart rejoin.
            operator.onLostLeadership(() -> Runtime.getRuntime().halt(1));
            MetricsFeedServer feedToClose = feed;
            HealthServer healthToClose = health;
            HTTPServer metricsToClose = metricsServer;
            AdmissionWebhook webhookToClose = webhook;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                operator.close(); // releases the Lease when leading: a standby takes over at its next retry
                if (webhookToClose != null) {
                    webhookToClose.close();
                }
                if (feedToClose != null) {
                    feedToClose.close();
                }
                if (healthToClose != null) {
                    healthToClose.close();
                }
                if (metricsToClose != null) {
                    metricsToClose.close();
                }
            }, "shutdown"));
            operator.start();
            operator.awaitStop();
        }
        return 0;
    }

    private static boolean validAddress(String address) {
        int colon = address.lastIndexOf(':');
        return address.equals("off") || (colon > 0 && address.substring(colon + 1).matches("\\d{1,5}"));
    }

    private static String host(String address) {
        return address.substring(0, address.lastIndexOf(':'));
    }

    private static int port(String address) {
        return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    }

    private ConsumerHealth.Settings consumerHealth() throws TriggerParseException {
        try {
            return new ConsumerHealth.Settings(healthWindow, Durations.parse("--consumer-stall-after", stallAfter),
                    Durations.parse("--consumer-stop-after", stopAfter));
        } catch (IllegalArgumentException e) {
            throw new TriggerParseException("consumer health: " + e.getMessage());
        }
    }

}
