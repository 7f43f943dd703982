import base from '@attnlab/eslint-config';
export default [...base];
