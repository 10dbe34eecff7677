package dev.lagscaler.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The arrows between the modules point one way (shared/docs/architecture.md): the decision core knows no Kafka,
 * Kubernetes client or Vert.x type; the operator and the adapter never import each other; no product code imports the
 * test kit. Runs here, in the CLI module, because only its test class path holds every module's main classes.
 */
class ArchitectureTest {
    /** Trigger parsing, lag arithmetic, the scaling decision and the reconcile plan: pure functions over values. */
    private static final String[] CORE = {"dev.lagscaler.trigger..", "dev.lagscaler.scaling..", "dev.lagscaler.lag",
            "dev.lagscaler.plan..", "dev.lagscaler.shard.."};
    private static final String[] OPERATOR = {"dev.lagscaler.trigger..", "dev.lagscaler.scaling..", "dev.lagscaler.lag..",
            "dev.lagscaler.plan..", "dev.lagscaler.shard..", "dev.lagscaler.controller..", "dev.lagscaler.auth..", "dev.lagscaler.metrics.."};
    private static final String[] PRODUCT = {"dev.lagscaler.trigger..", "dev.lagscaler.scaling..", "dev.lagscaler.lag..",
            "dev.lagscaler.shard..", "dev.lagscaler.controller..", "dev.lagscaler.auth..", "dev.lagscaler.metrics..", "dev.lagscaler.adapter..",
            "dev.lagscaler.feed..", "dev.lagscaler.tls..", "dev.lagscaler.consumer.."};

    private static JavaClasses mainClasses;

    @BeforeAll
    static void importMainClasses() {
        mainClasses = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
                .importPackages("dev.lagscaler");
    }

    @Test
    void decisionCoreImportsNoKafkaKubernetesOrVertx() {
        noClasses().that().resideInAnyPackage(CORE)
                .should().dependOnClassesThat().resideInAnyPackage("org.apache.kafka..", "io.kubernetes..", "io.vertx..",
                        "io.grpc..", "com.google.protobuf..")
                .because("the decision core is pure and table-tested (STYLE.md)")
                .check(mainClasses);
    }

    @Test
    void adapterImportsNothingFromTheOperator() {
        noClasses().that().resideInAPackage("dev.lagscaler.adapter..")
                .should().dependOnClassesThat().resideInAnyPackage(OPERATOR)
                .because("the adapter is its own process and image; it knows the operator only through the feed")
                .check(mainClasses);
    }

    @Test
    void operatorImportsNothingFromTheAdapter() {
        noClasses().that().resideInAnyPackage(OPERATOR)
                .should().dependOnClassesThat().resideInAPackage("dev.lagscaler.adapter..")
                .check(mainClasses);
    }

    @Test
    void productCodeNeverImportsTheTestKit() {
        noClasses().that().resideInAnyPackage(PRODUCT)
                .should().dependOnClassesThat().resideInAnyPackage("dev.lagscaler.testing..", "org.junit..",
                        "org.testcontainers..", "kafka..", "org.apache.kafka.server..", "org.apache.kafka.metadata..")
                .because("the operator and adapter images ship no test kit and no broker")
                .check(mainClasses);
    }

    @Test
    void theImportSawEveryModule() {
        // A rule over no classes passes trivially: make sure each module's main classes were imported.
        for (String probe : new String[] {"dev.lagscaler.scaling.ScalingPolicy", "dev.lagscaler.lag.LagArithmetic",
                "dev.lagscaler.controller.Operator", "dev.lagscaler.adapter.ExternalMetricsApi",
                "dev.lagscaler.testing.EmbeddedKafka", "dev.lagscaler.cli.LagscalerCli"}) {
            if (!mainClasses.contain(probe)) {
                throw new AssertionError("ArchUnit did not import " + probe + "; the rules would check nothing");
            }
        }
    }
}
