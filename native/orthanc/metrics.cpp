#include "metrics.h"

#include "bridge.h"
#include "log.h"

namespace aibridge {

void RefreshMetrics() {
  try {
    OrthancPluginContext* context = GetContext();
    if (context == nullptr) return;
    Bridge& bridge = TheBridge();
    float up = 0;
    float restarts = 0;
    if (bridge.supervisor) {
      const SupervisorSnapshot s = bridge.supervisor->Snapshot();
      up = s.state == GatewayState::Running ? 1 : 0;
      restarts = static_cast<float>(s.restarts);
    }
    OrthancPluginSetMetricsValue(context, "aibridge_gateway_up", up, OrthancPluginMetricsType_Default);
    OrthancPluginSetMetricsValue(context, "aibridge_gateway_restarts", restarts,
                                 OrthancPluginMetricsType_Default);
    OrthancPluginSetMetricsValue(context, "aibridge_changes_dropped",
                                 static_cast<float>(bridge.changesDropped.load()),
                                 OrthancPluginMetricsType_Default);
  } catch (...) {
    LogError("cannot refresh metrics");
  }
}

}  // namespace aibridge
