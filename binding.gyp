{
  # Every SIMD variant is its own static library compiled with its own flags; the addon links
  # all of them and picks one per kernel family at load time (native/core/cpu_features.cc).
  # CMakeLists.txt builds the same sources for cmake-js (and, later, CUDA).
  "target_defaults": {
    "cflags!": ["-fno-exceptions", "-O2"],
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-O2"],
    "cflags": ["-O3", "-fPIC", "-fno-math-errno"],
    "cflags_cc": ["-std=c++17", "-fexceptions", "-O3", "-fPIC", "-fno-math-errno"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "xcode_settings": {
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
      "OTHER_CFLAGS": ["-O3"]
    },
    "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1 } }
  },
  "targets": [
    {
      "target_name": "dendrite",
      "sources": [
        "native/binding/addon.cc",
        "native/binding/common.cc",
        "native/binding/core.cc",
        "native/binding/elementwise.cc",
        "native/binding/reduce.cc",
        "native/binding/gemm.cc",
        "native/binding/index.cc",
        "native/binding/optim.cc",
        "native/binding/loss.cc",
        "native/binding/roi.cc",
        "native/binding/conv.cc",
        "native/binding/pool.cc",
        "native/binding/norm.cc",
        "native/binding/rnn.cc",
        "native/binding/cuda.cc",
        "native/core/allocator.cc",
        "native/core/cpu_features.cc",
        "native/core/thread_pool.cc",
        "native/cpu/elementwise/elementwise.cc",
        "native/cpu/reduce/reduce.cc",
        "native/cpu/softmax/softmax.cc",
        "native/cpu/gemm/gemm.cc",
        "native/cpu/index/index.cc",
        "native/cpu/rnn/rnn.cc",
        "native/cpu/fill/fill.cc",
        "native/cpu/random/random.cc",
        "native/cpu/optim/optim.cc",
        "native/cpu/loss/nll_loss.cc",
        "native/cpu/roi/roi_align.cc",
        "native/cpu/roi/roi_pool.cc",
        "native/cpu/roi/nms.cc",
        "native/cpu/conv/conv.cc",
        "native/cpu/pool/pool.cc",
        "native/cpu/norm/batch_norm.cc"
      ],
      "conditions": [
        ["target_arch=='x64'", { "dependencies": ["dendrite_avx2", "dendrite_avx512"] }],
        ["target_arch=='arm64'", { "dependencies": ["dendrite_neon"] }],
        ["OS=='linux'", { "libraries": ["-lpthread"] }]
      ]
    }
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "dendrite_avx2",
          "type": "static_library",
          "cflags": ["-mavx2", "-mfma", "-mf16c"],
          "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-mavx2", "-mfma", "-mf16c"] },
          "sources": [
            "native/cpu/elementwise/elementwise_avx2.cc",
            "native/cpu/reduce/reduce_avx2.cc",
            "native/cpu/softmax/softmax_avx2.cc",
            "native/cpu/gemm/gemm_avx2.cc",
            "native/cpu/optim/optim_avx2.cc",
            "native/cpu/roi/roi_avx2.cc",
            "native/cpu/conv/conv_avx2.cc",
            "native/cpu/pool/pool_avx2.cc",
            "native/cpu/norm/batch_norm_avx2.cc",
            "native/cpu/rnn/rnn_avx2.cc"
          ]
        },
        {
          "target_name": "dendrite_avx512",
          "type": "static_library",
          "cflags": ["-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma", "-Wno-maybe-uninitialized"],
          "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma"] },
          "sources": [
            "native/cpu/elementwise/elementwise_avx512.cc",
            "native/cpu/reduce/reduce_avx512.cc",
            "native/cpu/softmax/softmax_avx512.cc",
            "native/cpu/gemm/gemm_avx512.cc",
            "native/cpu/optim/optim_avx512.cc",
            "native/cpu/roi/roi_avx512.cc",
            "native/cpu/conv/conv_avx512.cc",
            "native/cpu/pool/pool_avx512.cc",
            "native/cpu/norm/batch_norm_avx512.cc",
            "native/cpu/rnn/rnn_avx512.cc"
          ]
        }
      ]
    }],
    ["target_arch=='arm64'", {
      "targets": [
        {
          "target_name": "dendrite_neon",
          "type": "static_library",
          "sources": [
            "native/cpu/elementwise/elementwise_neon.cc",
            "native/cpu/reduce/reduce_neon.cc",
            "native/cpu/softmax/softmax_neon.cc",
            "native/cpu/gemm/gemm_neon.cc",
            "native/cpu/optim/optim_neon.cc",
            "native/cpu/roi/roi_neon.cc",
            "native/cpu/conv/conv_neon.cc",
            "native/cpu/pool/pool_neon.cc",
            "native/cpu/norm/batch_norm_neon.cc",
            "native/cpu/rnn/rnn_neon.cc"
          ]
        }
      ]
    }]
  ]
}
