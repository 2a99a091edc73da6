{
  # One file builds the native side: the Orthanc plugin that Orthanc loads
  # (a plain shared library, not a Node addon), and the addon the sealed
  # de-identification worker loads (kernel seal + DCMTK byte work).
  "targets": [
    {
      "target_name": "OrthancAiBridge",
      "type": "shared_library",
      "product_prefix": "lib",
      "product_extension": "so",
      "sources": [ "<!@(ls -1 native/orthanc/*.cpp native/orthanc/generated/*.cpp)" ],
      "include_dirs": [ "/usr/include/orthanc", "/usr/include/jsoncpp", "native/orthanc" ],
      "libraries": [ "-ljsoncpp", "-lpthread" ],
      "cflags_cc!": [ "-fno-exceptions", "-fno-rtti" ],
      "cflags_cc": [ "-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Werror", "-fvisibility=hidden" ],
      "defines": [ "AIBRIDGE_VERSION=\"<!(node -p \"require('./package.json').version\")\"" ]
    },
    {
      "target_name": "aibridge_addon",
      "sources": [ "<!@(ls -1 native/addon/*.cpp)" ],
      "include_dirs": [ "<!(node -p \"require('node-addon-api').include_dir\")", "native/addon" ],
      "libraries": [ "-ldcmimage", "-ldcmimgle", "-ldcmjpeg", "-ldcmjpls", "-ldcmdata", "-loflog", "-lofstd" ],
      "defines": [ "NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS" ],
      "cflags!": [ "-fno-exceptions" ],
      "cflags_cc!": [ "-fno-exceptions", "-fno-rtti" ],
      "cflags_cc": [ "-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Werror", "-Wno-deprecated-declarations" ]
    },
    {
      # Test-only: raw system calls the proof tests make from inside a sealed
      # process (test/seal/). The product never loads it.
      "target_name": "aibridge_hostile_probe",
      "sources": [ "test/native/hostile-probe.cpp" ],
      "include_dirs": [ "<!(node -p \"require('node-addon-api').include_dir\")" ],
      "defines": [ "NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS" ],
      "cflags!": [ "-fno-exceptions" ],
      "cflags_cc!": [ "-fno-exceptions", "-fno-rtti" ],
      "cflags_cc": [ "-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Werror" ]
    }
  ]
}
