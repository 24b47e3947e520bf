// The Nx `tools:preflight` target, which every app's `deploy` depends on: checks every input of the whole system
// before the first stack is touched, and names all that are missing in one message.
//   npx nx run tools:preflight --stage=stg
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { parseStageOptions } from './options';
import { checkDeployInputs, formatProblems } from './preflight';

const main = async (): Promise<number> => {
  const { stage, region } = parseStageOptions(process.argv.slice(2), process.env);
  const ssm = new SSMClient({ region });
  const parameterExists = async (name: string): Promise<boolean> => {
    try {
      await ssm.send(new GetParameterCommand({ Name: name }));
      return true;
    } catch (error) {
      if ((error as Error).name === 'ParameterNotFound') return false;
      throw error;
    }
  };
  const problems = await checkDeployInputs(stage, process.env, parameterExists);
  ssm.destroy();
  if (problems.length > 0) {
    console.error(formatProblems(stage, problems));
    return 1;
  }
  console.log(`preflight (stage ${stage}, region ${region}): JWT issuer and audience set, Alma API key and webhook secret parameters present.`);
  return 0;
};

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`preflight: ${(error as Error).message}`);
    process.exit(1);
  },
);
