package dev.swarmd.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.abort;

import java.util.Map;

/**
 * The images scripts/lib.sh {@code swarmd_build_test_images} builds, some under names users also use (the seed's
 * nginx, nginxdemos/hello, redis:3.0.x, dns-cache): each carries the label {@code dev.swarmd.test.image}. On an engine
 * the user owns, lib.sh leaves a foreign image under such a name alone, so a test that relies on what our image does
 * first checks that the name is ours.
 */
final class TestImages {
    static final String LABEL = "dev.swarmd.test.image";
    /** On everything lib.sh builds, also on its older builds. */
    static final String STAMP = "dev.swarmd.stamp";

    private TestImages() {}

    /**
     * Fails when an image is missing or an outdated build of ours (the images need building); skips the test when one
     * is not ours, since what it would test is then someone else's image.
     */
    static void requireOurs(Engine engine, String... images) {
        String build = "run `. scripts/lib.sh; swarmd_build_test_images`";
        for (String image : images) {
            assertTrue(engine.imageExists(image), "test image " + image + " is missing on the engine: " + build);
            Map<String, String> labels = engine.client().inspectImageCmd(image).exec().getConfig().getLabels();
            labels = labels == null ? Map.of() : labels;
            if (labels.containsKey(LABEL)) {
                continue;
            }
            assertFalse(labels.containsKey(STAMP), image + " is an old build of ours, without the " + LABEL
                    + " label: " + build);
            abort(image + " on the engine is not swarmd's test image (no " + LABEL + " label), and the test relies on"
                    + " what ours does. Run the tests on a throwaway engine (scripts/test starts one when no engine"
                    + " answers, and puts ours under the seed's names there), or remove this image (`docker image rm "
                    + image + "`) and " + build + ".");
        }
    }
}
