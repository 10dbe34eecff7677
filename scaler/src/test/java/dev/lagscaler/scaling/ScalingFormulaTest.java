package dev.lagscaler.scaling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** scalingModifiers' formulas: the forms KEDA's documentation shows, and what the sandbox refuses. */
class ScalingFormulaTest {
    private static final Set<String> NAMES = Set.of("trig_one", "trig_two", "trig_three");
    private static final Map<String, Double> VALUES = Map.of("trig_one", 3.0, "trig_two", 7.5, "trig_three", 0.5);

    @Test
    void kedasDocumentedFormsWorkUnchanged() throws Exception {
        record Row(String formula, double expected) {
        }
        for (Row row : List.of(
                new Row("trig_one + trig_two", 10.5),
                new Row("(trig_one + trig_two)/2", 5.25),
                new Row("trig_one * 2 - trig_three", 5.5),
                new Row("trig_one > 2 ? trig_one : trig_two", 3.0),
                new Row("trig_one < 2 ? trig_one : trig_two", 7.5),
                new Row("min(trig_one, trig_two)", 3.0),
                new Row("max(trig_one, trig_two)", 7.5),
                new Row("abs(trig_one - trig_two)", 4.5),
                new Row("count([trig_one,trig_two,trig_three],{#>1}) > 1 ? 5 : 0", 5.0),
                new Row("count([trig_one, trig_two, trig_three], {# > 5})", 1.0),
                new Row("trig_one == 3 && trig_two > 1 ? 1 : 0", 1.0),
                new Row("trig_one == 3 and not (trig_two < 1) ? 1 : 0", 1.0),
                new Row("1/2", 0.5),
                new Row("trig_three / 2", 0.25))) {
            assertEquals(row.expected(), ScalingFormula.compile(row.formula(), NAMES).evaluate(VALUES), 1e-9, row.formula());
        }
    }

    @Test
    void onlyTriggerNamesAreVariables() {
        ScaledObjectInvalid e = assertThrows(ScaledObjectInvalid.class,
                () -> ScalingFormula.compile("trig_one + lag", NAMES));
        assertTrue(e.getMessage().contains("uses [lag], which name no trigger"), e.getMessage());
        assertEquals(Set.of("trig_one", "trig_two"), assertDoesNotThrow("trig_one + trig_two").variables());
    }

    @Test
    void theSandboxRefusesMethodsObjectsAndAssignments() {
        for (String escape : List.of("trig_one.getClass()", "''.getClass().forName('java.lang.Runtime')",
                "new('java.lang.ProcessBuilder', 'true')", "trig_one = 5", "var x = 1", "while (true) {}",
                "trig_one +")) {
            assertThrows(ScaledObjectInvalid.class, () -> ScalingFormula.compile(escape, NAMES), escape);
        }
    }

    @Test
    void anEvaluationErrorSaysWhy() throws Exception {
        IllegalArgumentException notNumber = assertThrows(IllegalArgumentException.class,
                () -> ScalingFormula.compile("[trig_one]", NAMES).evaluate(VALUES));
        assertTrue(notNumber.getMessage().contains("not a number"), notNumber.getMessage());
        assertThrows(RuntimeException.class, () -> ScalingFormula.compile("trig_one / (trig_two - 7.5)", NAMES).evaluate(VALUES));
    }

    private static ScalingFormula assertDoesNotThrow(String formula) {
        try {
            return ScalingFormula.compile(formula, NAMES);
        } catch (ScaledObjectInvalid e) {
            throw new AssertionError(e);
        }
    }
}
