{
  # The watcher's batch signature verifier (sigbatch.c), built by `npm run build:native`.
  # libsecp256k1 comes from the sources the `secp256k1` dependency ships, configured as that package
  # configures them (its binding.gyp), so both agree on every answer.
  'variables': {
    'secp256k1_dir': '<!(node -p "require(\'path\').join(require(\'path\').dirname(require.resolve(\'secp256k1/package.json\')), \'src\', \'secp256k1\')")',
  },
  'targets': [
    {
      'target_name': 'sigbatch',
      'sources': ['sigbatch.c'],
      'include_dirs': ['<(secp256k1_dir)', '<(secp256k1_dir)/src'],
      'cflags': ['-O2', '-fvisibility=hidden', '-Wno-unused-function', '-Wno-nonnull-compare'],
      'defines': [
        'NAPI_VERSION=8',
        'ECMULT_GEN_PREC_BITS=4',
        'ECMULT_WINDOW_SIZE=15',
        'USE_ENDOMORPHISM=1',
        'USE_NUM_NONE=1',
        'USE_FIELD_INV_BUILTIN=1',
        'USE_SCALAR_INV_BUILTIN=1',
      ],
      'conditions': [
        ['target_arch=="x64" and OS!="win"', {
          'defines': ['HAVE___INT128=1', 'USE_ASM_X86_64=1', 'USE_FIELD_5X52=1', 'USE_SCALAR_4X64=1'],
        }, {
          'defines': ['USE_FIELD_10X26=1', 'USE_SCALAR_8X32=1'],
        }],
      ],
    },
  ],
}
