#include "bridge.h"

namespace aibridge {

Bridge& TheBridge() {
  static Bridge bridge;
  return bridge;
}

}  // namespace aibridge
