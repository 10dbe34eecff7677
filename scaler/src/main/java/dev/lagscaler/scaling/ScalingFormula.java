package dev.lagscaler.scaling;

import dev.lagscaler.scaling.formula.FormulaFunctions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.jexl3.JexlArithmetic;
import org.apache.commons.jexl3.JexlBuilder;
import org.apache.commons.jexl3.JexlEngine;
import org.apache.commons.jexl3.JexlException;
import org.apache.commons.jexl3.JexlFeatures;
import org.apache.commons.jexl3.JexlScript;
import org.apache.commons.jexl3.MapContext;
import org.apache.commons.jexl3.introspection.JexlPermissions;

/**
 * A scalingModifiers formula: compiled once by Apache Commons JEXL, evaluated over the triggers' values by name.
 * KEDA's formulas are expr-lang; the forms KEDA documents read the same here (arithmetic, comparisons, {@code and}
 * / {@code or} / {@code not}, the ternary, min/max/abs, and {@code count([a, b], {# > 1})}, whose predicate is
 * rewritten into a JEXL lambda). Division is always a real division, as in expr-lang. The engine is sandboxed: no
 * method calls, no object creation, no assignment, no loops; only {@link FormulaFunctions} is callable.
 */
public final class ScalingFormula {
    private static final JexlEngine ENGINE = new JexlBuilder()
            .features(new JexlFeatures().methodCall(false).newInstance(false).loops(false).sideEffect(false)
                    .sideEffectGlobal(false).pragma(false).annotation(false).importPragma(false).namespacePragma(false)
                    .script(false).lambda(true).localVar(true).structuredLiteral(true))
            .namespaces(functions())
            .permissions(JexlPermissions.RESTRICTED.compose(FormulaFunctions.class.getPackageName() + ".*"))
            .arithmetic(new RealDivision())
            .strict(true).silent(false).antish(false).cache(0)
            .create();
    /** expr-lang's predicate block, {@code {# > 1}}: its body, with # for the item. */
    private static final Pattern PREDICATE = Pattern.compile("\\{([^{}]*#[^{}]*)}");
    private static final String ITEM = "__item";

    private final String formula;
    private final JexlScript script;
    private final Set<String> variables;

    private ScalingFormula(String formula, JexlScript script, Set<String> variables) {
        this.formula = formula;
        this.script = script;
        this.variables = variables;
    }

    /**
     * Compiles {@code formula} over the given trigger names: the formula must parse and may name only those
     * triggers (KEDA checks the same when it compiles the formula against the triggers).
     */
    public static ScalingFormula compile(String formula, Set<String> triggerNames) throws ScaledObjectInvalid {
        JexlScript script;
        try {
            script = ENGINE.createScript(rewritePredicates(formula));
        } catch (JexlException e) {
            throw new ScaledObjectInvalid("ScaledObjectCheckFailed", "scalingModifiers.formula \"" + formula
                    + "\" does not compile: " + cause(e));
        }
        Set<String> used = new TreeSet<>();
        for (List<String> path : script.getVariables()) {
            used.add(path.get(0));
        }
        used.remove(ITEM);
        Set<String> unknown = new TreeSet<>(used);
        unknown.removeAll(triggerNames);
        if (!unknown.isEmpty()) {
            throw new ScaledObjectInvalid("ScaledObjectCheckFailed", "scalingModifiers.formula \"" + formula
                    + "\" uses " + unknown + ", which name no trigger (the triggers' names are " + new TreeSet<>(triggerNames)
                    + ")");
        }
        return new ScalingFormula(formula, script, Set.copyOf(used));
    }

    /** The trigger names the formula reads. */
    public Set<String> variables() {
        return variables;
    }

    /** The formula's value over the triggers' values; an error says why (a non-number result, a division by zero). */
    public double evaluate(Map<String, Double> values) {
        Object result;
        try {
            result = script.execute(new MapContext(new HashMap<>(values)));
        } catch (JexlException e) {
            throw new IllegalArgumentException("scalingModifiers.formula \"" + formula + "\" failed: " + cause(e), e);
        }
        if (result instanceof Number n) {
            return n.doubleValue();
        }
        if (result instanceof Boolean b) {
            return b ? 1 : 0;
        }
        throw new IllegalArgumentException("scalingModifiers.formula \"" + formula + "\" gave " + result
                + ", not a number");
    }

    @Override
    public String toString() {
        return formula;
    }

    /** {@code {# > 1}} becomes {@code __item -> __item > 1}. */
    static String rewritePredicates(String formula) {
        Matcher m = PREDICATE.matcher(formula);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement("(" + ITEM + " -> " + m.group(1).replace("#", ITEM) + ")"));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static String cause(JexlException e) {
        String message = e.getMessage();
        int at = message == null ? -1 : message.indexOf(' ');
        return message == null ? e.toString() : message.substring(at + 1);
    }

    private static Map<String, Object> functions() {
        Map<String, Object> namespaces = new HashMap<>();
        namespaces.put(null, FormulaFunctions.class);
        return namespaces;
    }

    /** expr-lang divides as real numbers: 1/2 is 0.5, not 0. */
    private static final class RealDivision extends JexlArithmetic {
        RealDivision() {
            super(true);
        }

        @Override
        public Object divide(Object left, Object right) {
            double divisor = toDouble(right);
            if (divisor == 0) {
                throw new ArithmeticException("division by zero");
            }
            return toDouble(left) / divisor;
        }
    }
}
