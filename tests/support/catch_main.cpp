// Catch2's main, plus a listener that counts failed assertions so that TempDir can keep the
// directories of failed tests for inspection.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <atomic>

namespace dataops::testing {

namespace {
std::atomic<long> g_failures{0};
}  // namespace

struct FailureCounter : Catch::TestEventListenerBase {
    using TestEventListenerBase::TestEventListenerBase;
    void assertionStarting(Catch::AssertionInfo const&) override {}
    bool assertionEnded(Catch::AssertionStats const& stats) override {
        if (!stats.assertionResult.isOk()) {
            ++g_failures;
        }
        return true;
    }
};

long failed_assertions() {
    return g_failures.load();
}

}  // namespace dataops::testing

namespace {
using dataops::testing::FailureCounter;
CATCH_REGISTER_LISTENER(FailureCounter)
}  // namespace
