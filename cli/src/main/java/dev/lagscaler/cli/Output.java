package dev.lagscaler.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.io.PrintWriter;
import java.util.List;
import java.util.function.BiConsumer;

/** {@code -o json|yaml|table}, as kubectl takes it: one document, printed as JSON, YAML or the command's own table. */
final class Output {
    static final String NAMES = "json, yaml or table";
    private static final List<String> FORMATS = List.of("json", "yaml", "table");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES));

    private Output() {
    }

    static boolean valid(String format) {
        return FORMATS.contains(format);
    }

    static void print(PrintWriter out, String format, JsonNode document, BiConsumer<PrintWriter, JsonNode> table) {
        try {
            switch (format) {
                case "json" -> out.println(JSON.writeValueAsString(document));
                case "yaml" -> out.print(YAML.writeValueAsString(document));
                default -> table.accept(out, document);
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("a document that does not serialize: " + e.getMessage(), e);
        }
        out.flush();
    }
}
