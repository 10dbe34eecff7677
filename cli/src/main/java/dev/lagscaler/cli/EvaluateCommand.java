package dev.lagscaler.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lagscaler evaluate}: offline, the same trigger code as the live engine, on offsets given as JSON. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = {"Computes a kafka trigger's metric and activity from given offsets, with no Kafka.",
                "Input (file or stdin): one JSON document or an array of them:",
                "  {\"triggerMetadata\":{...},\"authParams\":{...},\"triggerIndex\":0,",
                "   \"offsets\":[{\"topic\":\"t\",\"partition\":0,\"committed\":100,\"latest\":105}]}",
                "committed null or -1: no committed offset; latest null: missing from the log-end answer.",
                "For a ScaledJob: {\"scaledJob\":{...},\"queueLength\":N,\"runningJobCount\":R,\"pendingJobCount\":P}",
                "  gives the Jobs one pass creates, and why (queueLength: the lag; an array by trigger index).", "",
                "Example:  lagscaler evaluate -f snapshot.json -o yaml"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:evaluated", "2:bad input (the error is printed as a document)"})
final class EvaluateCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = {"-f", "--file"}, description = "Read the input from this file instead of stdin.")
    Path file;

    @Option(names = {"-o", "--output"}, defaultValue = "json",
            description = "json (one line, the default, for scripts), yaml or table.")
    String output;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (!Output.valid(output)) {
            spec.commandLine().getErr().println("lagscaler evaluate: -o takes " + Output.NAMES + ", not " + output);
            return LagscalerCli.EXIT_BAD_INPUT;
        }
        JsonNode input;
        try (InputStream in = file == null ? System.in : Files.newInputStream(file)) {
            input = JSON.readTree(in);
        } catch (IOException e) {
            return fail(out, "input is not readable JSON: " + firstLine(e.getMessage()));
        }
        if (input == null || input.isMissingNode()) {
            return fail(out, "input is empty");
        }
        if (input.isArray()) {
            ArrayNode results = JSON.createArrayNode();
            input.forEach(doc -> results.add(evaluate(doc)));
            print(out, results);
            return 0;
        }
        ObjectNode result = evaluate(input);
        print(out, result);
        return result.has("error") ? LagscalerCli.EXIT_BAD_INPUT : 0;
    }

    /** A ScaledJob snapshot (it has "scaledJob") or a trigger / ScaledObject one. */
    private static ObjectNode evaluate(JsonNode doc) {
        return doc.hasNonNull("scaledJob") ? JobEvaluation.evaluate(doc) : TriggerEvaluation.evaluate(doc);
    }

    private int fail(PrintWriter out, String message) {
        print(out, JSON.createObjectNode().put("error", message));
        return LagscalerCli.EXIT_BAD_INPUT;
    }

    /** JSON on one line by default (what scripts read); YAML; or the fields as an indented listing. */
    private void print(PrintWriter out, JsonNode node) {
        if (output.equals("json")) {
            out.println(node.toString());
            out.flush();
            return;
        }
        Output.print(out, output, node, EvaluateCommand::table);
    }

    private static void table(PrintWriter out, JsonNode node) {
        if (node.isArray()) {
            node.forEach(n -> {
                table(out, n);
                out.println();
            });
            return;
        }
        node.fields().forEachRemaining(f -> {
            if (f.getValue().isValueNode()) {
                f.getValue().asText().lines().forEach(l -> out.printf("%-24s %s%n", f.getKey(), l));
            } else {
                out.printf("%-24s %s%n", f.getKey(), f.getValue());
            }
        });
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unknown error";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }
}
