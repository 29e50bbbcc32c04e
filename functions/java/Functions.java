import java.util.LinkedHashMap;
import java.util.Map;

/** echo, sleep and matrix, as functions/echo.py, sleep.py and matrix.py define them. */
final class Functions {
    private Functions() {}

    static final double MAX_SLEEP_MS = 240_000.0;
    static final long MAX_N = 400;
    static final long MAX_SEED = Long.MAX_VALUE;

    /** The function called `name`, or null. */
    static Envelope.Handler byName(String name) {
        switch (name) {
            case "echo":
                return Functions::echo;
            case "sleep":
                return Functions::sleep;
            case "matrix":
                return Functions::matrix;
            default:
                return null;
        }
    }

    /** echo: returns its parameters unchanged. */
    static Object echo(Map<String, Object> params) {
        return new LinkedHashMap<>(params);
    }

    /** sleep: waits `ms` milliseconds (default 100) and reports how long it slept. */
    static Object sleep(Map<String, Object> params) throws InterruptedException {
        double ms = Envelope.floatParam(params, "ms", 100.0, 0.0, MAX_SLEEP_MS);
        long start = System.nanoTime();
        long deadline = start + (long) Math.ceil(ms * 1e6);
        for (long left = deadline - System.nanoTime(); left > 0; left = deadline - System.nanoTime()) {
            Thread.sleep(left / 1_000_000, (int) (left % 1_000_000));
        }
        return Envelope.document("ms", ms, "slept_ms", Envelope.round3((System.nanoTime() - start) / 1e6));
    }

    /**
     * MT19937 seeded as CPython's random.Random(seed) seeds it (init_by_array over the 32-bit words
     * of the seed, least significant first), with random() as CPython's genrand_res53.
     */
    static final class PythonRandom {
        private final int[] mt = new int[624];
        private int index = 624;

        PythonRandom(long seed) {
            int[] key = (seed >>> 32) != 0 ? new int[] {(int) seed, (int) (seed >>> 32)} : new int[] {(int) seed};
            mt[0] = 19650218;
            for (int i = 1; i < 624; i++) {
                mt[i] = 1812433253 * (mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
            }
            int i = 1;
            int j = 0;
            for (int k = Math.max(624, key.length); k > 0; k--) {
                mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1664525)) + key[j] + j;
                i++;
                j++;
                if (i >= 624) {
                    mt[0] = mt[623];
                    i = 1;
                }
                if (j >= key.length) {
                    j = 0;
                }
            }
            for (int k = 623; k > 0; k--) {
                mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1566083941)) - i;
                i++;
                if (i >= 624) {
                    mt[0] = mt[623];
                    i = 1;
                }
            }
            mt[0] = 0x80000000;
        }

        private int next32() {
            if (index >= 624) {
                for (int k = 0; k < 624; k++) {
                    int y = (mt[k] & 0x80000000) | (mt[(k + 1) % 624] & 0x7fffffff);
                    mt[k] = mt[(k + 397) % 624] ^ (y >>> 1) ^ ((y & 1) != 0 ? 0x9908b0df : 0);
                }
                index = 0;
            }
            int y = mt[index++];
            y ^= y >>> 11;
            y ^= (y << 7) & 0x9d2c5680;
            y ^= (y << 15) & 0xefc60000;
            y ^= y >>> 18;
            return y;
        }

        double random() {
            long a = (next32() >>> 5) & 0xffffffffL;
            long b = (next32() >>> 6) & 0xffffffffL;
            return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
        }

        double uniform(double low, double high) {
            return low + (high - low) * random();
        }
    }

    /**
     * The correctly rounded sum of the values added, as CPython's math.fsum computes it (Shewchuk's
     * partials, then half-even rounding across them).
     */
    static final class Fsum {
        private double[] partials = new double[8];
        private int count;

        void add(double value) {
            double x = value;
            int i = 0;
            for (int j = 0; j < count; j++) {
                double y = partials[j];
                if (Math.abs(x) < Math.abs(y)) {
                    double t = x;
                    x = y;
                    y = t;
                }
                double hi = x + y;
                double lo = y - (hi - x);
                if (lo != 0.0) {
                    partials[i++] = lo;
                }
                x = hi;
            }
            count = i;
            if (x != 0.0) {
                if (count == partials.length) {
                    partials = java.util.Arrays.copyOf(partials, count * 2);
                }
                partials[count++] = x;
            }
        }

        double value() {
            int n = count;
            if (n == 0) {
                return 0.0;
            }
            double hi = partials[--n];
            double lo = 0.0;
            while (n > 0) {
                double x = hi;
                double y = partials[--n];
                hi = x + y;
                lo = y - (hi - x);
                if (lo != 0.0) {
                    break;
                }
            }
            if (n > 0 && ((lo < 0.0 && partials[n - 1] < 0.0) || (lo > 0.0 && partials[n - 1] > 0.0))) {
                double y = lo * 2.0;
                double x = hi + y;
                if (y == x - hi) {
                    hi = x;
                }
            }
            return hi;
        }
    }

    /**
     * matrix: multiplies two n×n matrices drawn from `seed` exactly as functions/matrix.py draws them
     * (a, then b, row by row, uniform(-1, 1)); every sum is an fsum, so checksum and trace are
     * Python's to the last bit.
     */
    static Object matrix(Map<String, Object> params) {
        int n = (int) Envelope.intParam(params, "n", 100, 1, MAX_N);
        long seed = Envelope.intParam(params, "seed", 0, 0, MAX_SEED);
        PythonRandom rng = new PythonRandom(seed);
        double[][] a = new double[n][n];
        double[][] b = new double[n][n];
        for (double[][] m : new double[][][] {a, b}) {
            for (double[] row : m) {
                for (int j = 0; j < n; j++) {
                    row[j] = rng.uniform(-1.0, 1.0);
                }
            }
        }
        double[][] columns = new double[n][n];
        for (int j = 0; j < n; j++) {
            for (int k = 0; k < n; k++) {
                columns[j][k] = b[k][j];
            }
        }
        Fsum total = new Fsum();
        Fsum trace = new Fsum();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                Fsum dot = new Fsum();
                double[] row = a[i];
                double[] column = columns[j];
                for (int k = 0; k < n; k++) {
                    dot.add(row[k] * column[k]);
                }
                double entry = dot.value();
                total.add(entry);
                if (i == j) {
                    trace.add(entry);
                }
            }
        }
        return Envelope.document("n", n, "seed", seed, "checksum", total.value(), "trace", trace.value());
    }
}
