{
  "targets": [
    {
      "target_name": "latent_lab_native",
      "sources": ["src/addon.cc"],
      "depends": ["src/pool.h", "src/vmath.h"],
      "cflags_cc!": ["-fno-exceptions", "-O2"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-exceptions", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off", "-fno-strict-aliasing", "-Wno-psabi", "-pthread"],
      "conditions": [
        ["OS=='linux'", {
          "variables": {
            "openblas_link%": "<!(node -p \"['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib'].some((folder) => require('fs').existsSync(folder + '/libopenblas.a')) ? '-l:libopenblas.a' : '-lopenblas'\")"
          },
          "libraries": ["-Wl,--exclude-libs,ALL", "<(openblas_link)", "-pthread"]
        }],
        ["OS=='linux' and target_arch=='x64'", { "cflags_cc": ["-march=x86-64", "-mtune=generic"] }],
        ["OS=='mac'", {
          "defines": ["LATENT_LAB_ACCELERATE", "ACCELERATE_NEW_LAPACK"],
          "libraries": ["-framework Accelerate"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17"] }
        }],
        ["OS=='win'", {
          "variables": { "openblas_dir%": "<!(node -p \"process.env.OPENBLAS_DIR || 'C:/openblas'\")" },
          "include_dirs": ["<(openblas_dir)/include"],
          "libraries": ["<(openblas_dir)/lib/libopenblas.lib"]
        }]
      ]
    }
  ]
}
