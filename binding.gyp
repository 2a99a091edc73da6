{
  # One file builds the native side: the Orthanc plugin that Orthanc loads
  # (a plain shared library, not a Node addon). The sandbox addon for the
  # de-identification worker joins it as a second target.
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
    }
  ]
}
